#!/usr/bin/env node
// The `mesh` binary's launcher, plain JavaScript so that it runs before any TypeScript is
// stripped. It turns on Node's compile cache, which keeps the stripped JavaScript and V8's
// code cache of every module, keyed by the content of the source: the next run loads neither
// the TypeScript stripper (about 17 MB and 40 ms per thread) nor recompiles libp2p, and an
// edited file is simply stripped again (a stale result is impossible). Worker threads and
// child processes find the cache through NODE_COMPILE_CACHE. If the cache directory cannot be
// used (read-only, another user's), everything runs as before, only slower.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { constants } from 'node:os'
import * as nodeModule from 'node:module'
import { fileURLToPath } from 'node:url'
import { bundleIsFresh } from './bundle-freshness.js'
import { mallocTunedEnv } from './malloc-tuning.js'

/** The oldest Node that runs the TypeScript sources and libp2p 3. */
const MIN_NODE = [22, 18]

const [major, minor] = process.versions.node.split('.').map(Number)
if (major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1])) {
  await runWithCheckoutNode()
} else {
  // `mesh start` starts over in place (same pid, same arguments) with glibc's malloc set so
  // that a busy worker thread's freed memory goes back to the system (malloc-tuning.js).
  const tunedEnv = typeof process.execve === 'function' ? mallocTunedEnv(process.argv) : null
  if (tunedEnv != null) process.execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], tunedEnv)
  const cache = nodeModule.enableCompileCache?.()
  if (cache?.directory != null) process.env.NODE_COMPILE_CACHE = cache.directory
  // The bundle in dist/ (`npm run bundle`, run by `npm ci`) starts a node in about half the
  // time of the sources, which run whenever it is missing or older than a source.
  const bundled = bundleIsFresh(fileURLToPath(new URL('..', import.meta.url)))
  // Stack traces of the bundle point at the sources when someone is debugging.
  if (bundled && process.env.DEBUG) process.setSourceMapsEnabled(true)
  const { runCli } = await import(bundled ? '../dist/run.js' : './run.ts')
  process.exitCode = await runCli(process.argv)
}

/**
 * `mesh` put on the PATH (`npm link`, `npm install -g` from the checkout) starts with the
 * machine's own Node, which may be older than the project's: this file then runs again under
 * the Node 24 that `npm ci` installed in the checkout.
 */
async function runWithCheckoutNode () {
  const checkoutNode = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url))
  if (!existsSync(checkoutNode)) {
    process.stderr.write(`mesh: needs Node ${MIN_NODE.join('.')} or newer (this is ${process.version}); run npm ci in the mesh checkout\n`)
    process.exit(1)
  }
  const child = spawn(checkoutNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' })
  // Ctrl-C and a closed terminal reach the whole foreground process group, the child too:
  // passing them on would deliver them twice. A SIGTERM is sent to this process alone.
  process.on('SIGINT', () => {})
  process.on('SIGHUP', () => {})
  process.on('SIGTERM', () => { child.kill('SIGTERM') })
  const code = await new Promise(resolve => {
    // Killed by a signal: the shell's convention, 128 + its number.
    child.once('exit', (status, signal) => { resolve(status ?? 128 + (constants.signals[signal] ?? 0)) })
  })
  process.exit(code)
}
