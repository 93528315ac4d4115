/**
 * Why a client stopped early. Each failed connection counts once, under one kind: a refused
 * connect, a reset, no answer within the timeout, an echo whose bytes differ, a gateway answer
 * that is not `{"ok":true,…}` JSON, the server closing while an answer was due, anything else.
 */
export const ERROR_KINDS = ['refused', 'reset', 'timeout', 'wrong_echo', 'wrong_reply', 'closed', 'other'] as const
export type ErrorKind = typeof ERROR_KINDS[number]
export type ErrorCounts = Record<ErrorKind, number>

export function emptyErrorCounts (): ErrorCounts {
  return { refused: 0, reset: 0, timeout: 0, wrong_echo: 0, wrong_reply: 0, closed: 0, other: 0 }
}

export function errorKindOf (err: NodeJS.ErrnoException): ErrorKind {
  switch (err.code) {
    case 'ECONNREFUSED': return 'refused'
    case 'ECONNRESET':
    case 'EPIPE': return 'reset'
    case 'ETIMEDOUT': return 'timeout'
    default: return 'other'
  }
}

export function totalErrors (counts: ErrorCounts): number {
  let sum = 0
  for (const kind of ERROR_KINDS) sum += counts[kind]
  return sum
}
