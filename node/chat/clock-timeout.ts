import type { Clock } from '../time/clock.ts'

/**
 * AbortSignal.timeout(ms), optionally joined with `signal`, but on the node's clock: under a
 * fake clock a silent peer times out when the test moves time, not after real seconds.
 * Runs `fn` with it and stops the timer when `fn` settles, so no timer outlives its use.
 */
export async function withTimeout<T> (clock: Clock, ms: number, signal: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController()
  const timer = clock.setTimeout(() => {
    controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))
  }, ms).unref()
  try {
    return await fn(signal == null ? controller.signal : AbortSignal.any([signal, controller.signal]))
  } finally {
    timer.clear()
  }
}
