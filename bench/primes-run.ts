// One timed count for bench/primes.ts, in a process of its own so its peak RSS is its own:
// `node bench/primes-run.ts FROM TO [WORKERS]` prints {"count","seconds","maxRssMb"}.
// WORKERS omitted: countRange on this thread (the single-core figure); else the worker pool.
// Modules load through Node's compile cache, as the `mesh` launcher (cli/mesh.js) loads them.
import * as nodeModule from 'node:module'

const cache = nodeModule.enableCompileCache?.()
if (cache?.directory != null) process.env.NODE_COMPILE_CACHE = cache.directory
const { countRange, countRangeParallel } = await import('../node/compute/primes/index.ts')
const { parseBound } = await import('../cli/parse-bound.ts')

const [fromText, toText, workersText] = process.argv.slice(2)
const from = parseBound(fromText, 'FROM')
const to = parseBound(toText, 'TO')
const started = performance.now()
const count = workersText == null
  ? countRange(from, to, { details: false }).count
  : (await countRangeParallel(from, to, { workers: Number(workersText), details: false })).count
const seconds = (performance.now() - started) / 1000
process.stdout.write(JSON.stringify({ count: count.toString(), seconds, maxRssMb: process.resourceUsage().maxRSS / 1024 }) + '\n')
