// One timed count for bench/primes.ts, in a process of its own so its peak RSS is its own:
// `node bench/primes-run.js FROM TO [WORKERS]` prints {"count","seconds","maxRssMb"}.
// WORKERS omitted: countRange on this thread (the single-core figure); else the worker pool.
// Plain JavaScript, like the `mesh` launcher (cli/mesh.js), and for the same reason: Node
// strips the types of an entry file before any compile cache is on, which loads its
// TypeScript stripper (about 40 ms of CPU per process, measured here) into every run. The
// modules then load through Node's compile cache, as the launcher loads them.
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
