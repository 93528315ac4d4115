#!/usr/bin/env node
// The `mesh` binary. Node 24 runs this TypeScript file directly (type stripping): there is no
// build step, so `npx mesh` works right after `npm ci`.
import { runCli } from './run.ts'

process.exitCode = await runCli(process.argv)
