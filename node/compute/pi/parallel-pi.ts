import { WorkerPool } from '../worker-pool.ts'
import { countRange } from '../primes/index.ts'
import { piParameters, SHARD_ALIGN, SIEVE_BELOW, type PiParameters } from './pi-parameters.ts'
import { parametersToWire } from './pi-wire.ts'

export interface PiCount {
  count: bigint
  seconds: number
  /** Compute seconds summed over the worker threads. */
  workerSeconds: number
  /** Tasks run: the easy terms and each hard-leaf shard. */
  shards: number
}

export interface PiOnPoolOptions {
  pool?: WorkerPool
  workers?: number
  signal?: AbortSignal
  /** Numbers of the hard-leaf interval [0, z) done, and z. */
  onProgress?: (done: number, total: number) => void
}

/** Hard-leaf shards per worker thread on one machine: enough that the skew evens out. */
const SHARDS_PER_WORKER = 6

/**
 * Cuts [0, z) into `count` hard-leaf shards. The leaves crowd the start of the interval, so
 * the boundaries grow with the cube of the shard index; every boundary is a multiple of 240.
 */
function planHardShards (z: number, count: number): Array<{ low: number, high: number }> {
  const out: Array<{ low: number, high: number }> = []
  let low = 0
  for (let i = 1; i <= count && low < z; i++) {
    let high = i === count ? z : Math.floor(z * (i / count) ** 3 / SHARD_ALIGN) * SHARD_ALIGN
    if (high <= low) continue
    if (high > z) high = z
    out.push({ low, high })
    low = high
  }
  return out
}

/**
 * pi(x) on this machine's worker threads: the easy terms on one, the hard-leaf shards on all
 * (the pool hands them out as threads free up), added up here.
 */
export async function piOnPool (x: bigint, options: PiOnPoolOptions = {}): Promise<PiCount> {
  const started = performance.now()
  if (x < SIEVE_BELOW) {
    const count = x < 0n ? 0n : countRange(0n, x, { details: false }).count
    const seconds = (performance.now() - started) / 1000
    return { count, seconds, workerSeconds: seconds, shards: 1 }
  }
  const pool = options.pool ?? new WorkerPool({ size: options.workers })
  try {
    const params = piParameters(x)
    const { count, workerSeconds, shards } = await runPiTasks(params, pool, options)
    return { count, seconds: (performance.now() - started) / 1000, workerSeconds, shards }
  } finally {
    if (options.pool == null) await pool.close()
  }
}

async function runPiTasks (params: PiParameters, pool: WorkerPool, options: PiOnPoolOptions): Promise<Omit<PiCount, 'seconds'>> {
  const wire = parametersToWire(params)
  const shards = planHardShards(params.z, SHARDS_PER_WORKER * pool.size)
  let done = 0
  let workerSeconds = 0
  const easy = pool.run<{ s1: string, s2Easy: string, p2: string, piY: number, seconds: number }>('pi.easy', { params: wire }, { signal: options.signal })
  const hard = shards.map(async shard => {
    const r = await pool.run<{ sum: string, seconds: number }>('pi.hard', { params: wire, ...shard }, {
      signal: options.signal,
      onProgress: n => { done += n as number; options.onProgress?.(done, params.z) }
    })
    workerSeconds += r.seconds
    return BigInt(r.sum)
  })
  const [terms, ...sums] = await Promise.all([easy, ...hard])
  workerSeconds += terms.seconds
  const s2Hard = sums.reduce((a, b) => a + b, 0n)
  const count = BigInt(terms.s1) + BigInt(terms.s2Easy) + s2Hard + BigInt(terms.piY) - 1n - BigInt(terms.p2)
  return { count, workerSeconds, shards: shards.length + 1 }
}
