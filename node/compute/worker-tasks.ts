import { countRange } from './primes/count-range.ts'
import type { WorkerTask } from './worker-protocol.ts'

/** Numbers of a shard between two progress messages (a message costs far less than this work). */
const PROGRESS_EVERY = 1n << 26n

/**
 * The tasks a pool thread can run, by name. Inputs and results cross threads by structured
 * clone; keep them plain data.
 */
export const WORKER_TASKS: Record<string, WorkerTask> = {
  /** Counts one shard: { from, to, details? } -> RangeCount & { seconds }; progress = numbers done (bigint). */
  'primes.count': (input: { from: bigint, to: bigint, details?: boolean }, context) => {
    let reported = 0n
    const started = performance.now()
    const result = countRange(input.from, input.to, {
      details: input.details,
      onProgress: (done) => {
        if (done - reported < PROGRESS_EVERY) return
        context.progress(done - reported)
        reported = done
      }
    })
    return { ...result, seconds: (performance.now() - started) / 1000 }
  },
  /** For tests and health checks: echoes its input after `ms` of busy CPU. */
  'pool.spin': (input: { ms: number, value: unknown }) => {
    const until = Date.now() + input.ms
    while (Date.now() < until) { /* busy, like a real CPU task */ }
    return input.value
  }
}
