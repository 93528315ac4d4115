import { countRange } from './primes/count-range.ts'
import { primeBatches } from './primes/list-primes.ts'
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
  /**
   * The first `limit` primes of [from, to]: { primes (decimal strings), next } where `next`
   * is where to go on (null when the range is done). Sieving stops once `limit` is passed.
   */
  'primes.range': (input: { from: bigint, to: bigint, limit: number }) => {
    const primes: string[] = []
    let next: string | null = null
    for (const batch of primeBatches(input.from, input.to)) {
      for (let i = 0; i < batch.length; i++) {
        const p = batch.base + BigInt(batch.offsets[i])
        if (primes.length === input.limit) { next = p.toString(); break }
        primes.push(p.toString())
      }
      if (next != null) break
    }
    return { primes, next }
  },
  /** pi(x) but its hard leaves: { params } -> { s1, s2Easy, p2, piY, seconds }. */
  // The combinatorial count's code and tables load on its first task: a thread that only
  // sieves does not carry them (about 10 MB of a busy worker's memory).
  'pi.easy': async (input: { params: unknown, easyLeaves?: boolean }) => (await import('./pi/pi-tasks.ts')).easyTask(input),
  /** One hard-leaf shard: { params, low, high, easy? } -> { sum, seconds }; progress = numbers done. */
  'pi.hard': async (input: { params: unknown, low: number, high: number, easy?: { from: number, to: number } }, context) => (await import('./pi/pi-tasks.ts')).hardTask(input, n => { context.progress(n) }),
  /** For tests and health checks: echoes its input after `ms` of busy CPU. */
  'pool.spin': (input: { ms: number, value: unknown }) => {
    const until = Date.now() + input.ms
    while (Date.now() < until) { /* busy, like a real CPU task */ }
    return input.value
  }
}
