/** What a handler learns about the call it serves. */
export interface RpcContext {
  /** Aborted when the caller cancels or goes away, when the deadline passes, or on stop. */
  signal: AbortSignal
  /** Peer id of the caller; this node's own id for a local call. */
  caller: string
  /** Time on the node's clock (ms since the epoch) by which the answer is due. */
  deadline: number
}

/**
 * A method: returns one value (a JSON value or a promise of one) for a plain answer, or an
 * async iterable for a streamed answer (prime lists, progress), sent as items then an end.
 * Throw an error with a meaningful `name` (InvalidArgumentsError, ...): the caller gets it.
 */
export type RpcHandler = (args: unknown, ctx: RpcContext) => unknown

export type RpcMethods = Record<string, RpcHandler>

export interface RpcServiceOptions {
  /**
   * Running a method twice has the same effect as once, so the client may retry it on
   * another peer after a failure that may have happened after it ran. Default false.
   */
  idempotent?: boolean
  /**
   * Methods that answer synchronously, in microseconds, and need neither their signal nor
   * their deadline (a primality test of a small number): a call the balancer keeps on this
   * node runs them inline, without the timers, abort wiring and promise hops of a run.
   * Such a method must not return a promise or a stream.
   */
  inline?: readonly string[]
}

export interface RpcCallOptions {
  /** Call this peer (its full id) only: no balancing, no fallback; retries stay on it. */
  peer?: string
  /** Budget for the whole call, retries included. Default DEFAULT_DEADLINE_MS. */
  deadlineMs?: number
  /**
   * Budget of one attempt; when it runs out the call falls back to another peer (idempotent
   * calls only). Default: the whole deadline divided by maxAttempts for idempotent calls,
   * the whole deadline otherwise.
   */
  attemptTimeoutMs?: number
  signal?: AbortSignal
  /** May run more than once. Default: what the local registration of the service says, else false. */
  idempotent?: boolean
  /** Attempts in all, first included. Default 3 (DEFAULT_MAX_ATTEMPTS says why). */
  maxAttempts?: number
  /** Peers never to use for this call (a scheduler's excluded or already-busy peers). */
  exclude?: Iterable<string>
}

export interface RpcStreamOptions extends RpcCallOptions {
  /** Called once the first answer frame arrives, with the peer that gives it. */
  onPeer?: (peer: string) => void
}

/** The answer of `call`: the value, who gave it and after how many attempts. */
export interface RpcReply<T = unknown> {
  result: T
  peer: string
  attempts: number
}
