#!/usr/bin/env node
// The `mesh` binary's launcher, plain JavaScript so that it runs before any TypeScript is
// stripped. It turns on Node's compile cache, which keeps the stripped JavaScript and V8's
// code cache of every module, keyed by the content of the source: the next run loads neither
// the TypeScript stripper (about 17 MB and 40 ms per thread) nor recompiles libp2p, and an
// edited file is simply stripped again (a stale result is impossible). Worker threads and
// child processes find the cache through NODE_COMPILE_CACHE. If the cache directory cannot be
// used (read-only, another user's), everything runs as before, only slower.
import { enableCompileCache } from 'node:module'

const cache = enableCompileCache?.()
if (cache?.directory != null) process.env.NODE_COMPILE_CACHE = cache.directory

const { runCli } = await import('./run.ts')
process.exitCode = await runCli(process.argv)
