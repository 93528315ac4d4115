import { WorkerPool } from '../worker-pool.ts'
import type { RangeCount } from './count-range.ts'
import { checkBounds } from './range-sieve.ts'
import { planShards } from './shards.ts'
import { combine } from './combine.ts'

export { combine }

export interface ParallelCountOptions {
  /** Threads for a pool of its own (default one per core); ignored when `pool` is given. */
  workers?: number
  /** A pool to run on (left open); otherwise one is created and closed. */
  pool?: WorkerPool
  /** Also compute sum, first and last (default true); count-only is about 10% faster. */
  details?: boolean
  signal?: AbortSignal
  /** Numbers of the range done so far, out of `total`; called often, from the event loop. */
  onProgress?: (done: bigint, total: bigint) => void
}

export interface ParallelCount extends RangeCount {
  shards: number
  /** Wall-clock seconds. */
  seconds: number
  /** Sum over shards of the seconds each took in its thread. */
  workerSeconds: number
}

/** Counts the primes in [from, to] over a pool of worker threads, shard by shard. */
export async function countRangeParallel (from: bigint, to: bigint, options: ParallelCountOptions = {}): Promise<ParallelCount> {
  checkBounds(from, to)
  const started = performance.now()
  const pool = options.pool ?? new WorkerPool({ size: options.workers })
  const details = options.details ?? true
  const total = to >= from ? to - from + 1n : 0n
  const shards = planShards(from, to, pool.size)
  let done = 0n
  let workerSeconds = 0
  try {
    const results = await Promise.all(shards.map(async (shard) => {
      let reported = 0n
      const result = await pool.run<RangeCount & { seconds: number }>('primes.count', { ...shard, details }, {
        signal: options.signal,
        onProgress: (value) => {
          reported += value as bigint
          done += value as bigint
          options.onProgress?.(done, total)
        }
      })
      done += shard.to - shard.from + 1n - reported
      workerSeconds += result.seconds
      options.onProgress?.(done, total)
      return result
    }))
    const combined = combine(results)
    return { ...combined, shards: shards.length, seconds: (performance.now() - started) / 1000, workerSeconds }
  } finally {
    if (options.pool == null) await pool.close()
  }
}
