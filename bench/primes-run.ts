// One timed count for bench/primes.ts, in a process of its own so its peak RSS is its own:
// `node bench/primes-run.ts FROM TO [WORKERS]` prints {"count","seconds","maxRssMb"}.
// WORKERS omitted: countRange on this thread (the single-core figure); else the worker pool.
import { countRange, countRangeParallel } from '../node/compute/primes/index.ts'
import { parseBound } from '../cli/parse-bound.ts'

const [fromText, toText, workersText] = process.argv.slice(2)
const from = parseBound(fromText, 'FROM')
const to = parseBound(toText, 'TO')
const started = performance.now()
const count = workersText == null
  ? countRange(from, to, { details: false }).count
  : (await countRangeParallel(from, to, { workers: Number(workersText), details: false })).count
const seconds = (performance.now() - started) / 1000
process.stdout.write(JSON.stringify({ count: count.toString(), seconds, maxRssMb: process.resourceUsage().maxRSS / 1024 }) + '\n')
