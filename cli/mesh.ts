#!/usr/bin/env node
// `node cli/mesh.ts …` runs the CLI straight from the sources. The installed `mesh` binary
// is cli/mesh.js, which does the same after turning on Node's compile cache.
import { runCli } from './run.ts'

process.exitCode = await runCli(process.argv)
