/** First retry waits up to this long: enough for a busy peer's queue to move. */
export const DEFAULT_BACKOFF_BASE_MS = 20
/** No single wait beyond this: a call has a deadline of seconds, not minutes. */
export const DEFAULT_BACKOFF_CAP_MS = 1000

export interface BackoffInit {
  baseMs?: number
  capMs?: number
  /** [0, 1); injected for tests. */
  random?: () => number
}

/**
 * Capped exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff
 * and Jitter"): the wait before retry `n` (1 for the first retry) is uniform in
 * [0, min(cap, base * 2^(n-1))). Full jitter spreads callers that failed together, so
 * they do not all come back at the same instant.
 */
export function backoffDelay (retry: number, init: BackoffInit = {}): number {
  const base = init.baseMs ?? DEFAULT_BACKOFF_BASE_MS
  const cap = init.capMs ?? DEFAULT_BACKOFF_CAP_MS
  const random = init.random ?? Math.random
  if (!Number.isInteger(retry) || retry < 1) throw new RangeError('retry must be a whole number from 1')
  // 2 ** 1024 is Infinity; min() keeps it at the cap either way.
  const ceiling = Math.min(cap, base * 2 ** Math.min(retry - 1, 60))
  return Math.floor(random() * ceiling)
}
