/**
 * Capped exponential backoff, the one helper for every retry in the node (rpc calls, dials,
 * the DM outbox). The ceiling before retry `n` (1 for the first retry) is
 * min(cap, base * 2^(n-1)); the jitter then picks the wait under it:
 *
 * - `full`: uniform in [0, ceiling) (AWS Architecture Blog, "Exponential Backoff and
 *   Jitter"). Spreads callers that failed together best; right for short waits in a call.
 * - `equal`: uniform in [ceiling/2, ceiling * 3/2). Never retries much sooner than the
 *   ceiling; right for background redials where a too-early retry only wastes a dial.
 */
export interface BackoffInit {
  baseMs: number
  capMs: number
  jitter?: 'full' | 'equal'
  /** [0, 1); injected for tests. */
  random?: () => number
}

export function backoffDelay (retry: number, init: BackoffInit): number {
  if (!Number.isInteger(retry) || retry < 1) throw new RangeError('retry must be a whole number from 1')
  const random = init.random ?? Math.random
  // 2 ** 1024 is Infinity; min() keeps it at the cap either way.
  const ceiling = Math.min(init.capMs, init.baseMs * 2 ** Math.min(retry - 1, 60))
  if (init.jitter === 'equal') return Math.floor(ceiling * (0.5 + random()))
  return Math.floor(random() * ceiling)
}
