import type { FailureCause } from './shard-scheduler.ts'

/**
 * Errors of a shard call that say nothing about the shard: the connection to the peer
 * closed under the call (the peer died, or a cut made it unreachable), no stream could be
 * opened to it, or it refused the call before running it (shutting down, at its limit).
 * The names are the rpc protocol's; both ends use them.
 */
const PEER_TROUBLE_ERRORS: ReadonlySet<string> = new Set([
  'ConnectionLostError', 'DialFailedError', 'ServiceUnavailableError', 'TooManyRequestsError'
])

/**
 * Whose trouble a failed shard call was. A call with one attempt that was not retried ends
 * in AllAttemptsFailedError naming each attempt's error: the peer's trouble when all were.
 */
export function failureCause (err: unknown): FailureCause {
  const e = err as { name?: unknown, attempts?: unknown } | null | undefined
  if (PEER_TROUBLE_ERRORS.has(String(e?.name))) return 'peer'
  if (e?.name === 'AllAttemptsFailedError' && Array.isArray(e.attempts) && e.attempts.length > 0 &&
    e.attempts.every((a: any) => PEER_TROUBLE_ERRORS.has(String(a?.error?.name)))) return 'peer'
  return 'shard'
}
