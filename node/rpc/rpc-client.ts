import { pushable } from 'it-pushable'
import { raceSignal } from 'race-signal'
import {
  AllAttemptsFailedError, DeadlineExceededError, InvalidArgumentsError, MAX_DEADLINE_MS, MAYBE_EXECUTED_ERRORS,
  NOT_EXECUTED_ERRORS, NOT_SERVED_ERRORS, NoPeerForServiceError, RpcCancelledError, toErrorBody, type FailedAttempt
} from '../../protocols/rpc/index.ts'
import { defaultLogger, type Log, type MeshLogger } from '../logging/logger.ts'
import { backoffDelay, type BackoffInit } from '../time/backoff.ts'
import { systemClock, type Clock } from '../time/clock.ts'
import { candidatesFor, pickPeer, type MemberLike } from './balancer.ts'
import type { CallListener } from './client-channel.ts'
import type { RpcMetrics } from './rpc-metrics.ts'
import type { RpcCallOptions, RpcReply, RpcStreamOptions } from './rpc-types.ts'

/** A call with no deadline given gets this long, retries included. */
export const DEFAULT_DEADLINE_MS = 10_000
/**
 * Attempts in all, the first included. Ray (a task's max_retries) and Dask (a task's
 * allowed failures) both settle on 3: enough to ride over a peer restarting or a dropped
 * connection, few enough that a call that cannot succeed fails well within its deadline.
 */
export const DEFAULT_MAX_ATTEMPTS = 3
export const MAX_ATTEMPTS = 10
/** First retry waits up to this long: enough for a busy peer's queue to move. */
export const DEFAULT_BACKOFF_BASE_MS = 20
/** No single wait beyond this: a call has a deadline of seconds, not minutes. */
export const DEFAULT_BACKOFF_CAP_MS = 1000

/** How one attempt reaches a peer; the node wires it to the local server or a stream pool. */
export interface RpcTransport {
  /** Calls this node has in flight to `peer`. */
  inflight: (peer: string) => number
  /** Sends one request; resolves to a function that cancels it. */
  start: (peer: string, service: string, method: string, args: unknown, deadlineMs: number,
    listener: CallListener, signal: AbortSignal) => Promise<() => void>
  /**
   * Runs the method now if `peer` is this node and the method is inline (synchronous and
   * bounded): `{ value }`, or the method's error thrown; undefined to take `start`'s path.
   */
  inline?: (peer: string, service: string, method: string, args: unknown, deadlineMs: number) => { value: unknown } | undefined
}

export interface RpcClientComponents {
  transport: RpcTransport
  /** Every member this node knows, itself included. */
  members: () => readonly MemberLike[]
  selfId: string
  /** The local registration's idempotency of a method, when this node serves it. */
  idempotentOf?: (service: string, method: string) => boolean | undefined
  metrics?: RpcMetrics
  /** Deadlines, attempt timeouts and the waits between attempts. Default: the system clock. */
  clock?: Clock
  logger?: MeshLogger
}

export interface RpcClientInit {
  /** Draws the balancer's two candidates and the backoff jitter. Default Math.random. */
  random?: () => number
  backoff?: Partial<Omit<BackoffInit, 'random' | 'jitter'>>
}

/** No peers: the exclusions of a call that names none (the common case allocates no set). */
const NO_PEERS: ReadonlySet<string> = new Set()

interface AttemptHooks {
  onItem?: (value: unknown) => void
  /** A streamed answer has started: from then on a failure is final, not retried. */
  committed?: () => boolean
}

/**
 * The rpc client: picks a peer by power of two choices among live members advertising the
 * method, retries with capped exponential backoff and full jitter, and falls back to
 * another peer. Calls that may have run (connection lost, attempt timed out) are retried
 * only when idempotent; calls that certainly did not run (busy, stopping, dial failed,
 * stale advertisement) always may be. Errors the method itself raised are final.
 */
export class RpcClient {
  private readonly transport: RpcTransport
  private readonly members: () => readonly MemberLike[]
  private readonly selfId: string
  private readonly idempotentOf: (service: string, method: string) => boolean | undefined
  private readonly metrics?: RpcMetrics
  private readonly clock: Clock
  private readonly log: Log
  private readonly random: () => number
  private readonly backoff: Omit<BackoffInit, 'random' | 'jitter'>
  private readonly inflightOf = (id: string): number => this.transport.inflight(id)

  constructor (components: RpcClientComponents, init: RpcClientInit = {}) {
    this.transport = components.transport
    this.members = components.members
    this.selfId = components.selfId
    this.idempotentOf = components.idempotentOf ?? (() => undefined)
    this.metrics = components.metrics
    this.clock = components.clock ?? systemClock
    this.log = (components.logger ?? defaultLogger).forComponent('rpc:client')
    this.random = init.random ?? Math.random
    this.backoff = { baseMs: init.backoff?.baseMs ?? DEFAULT_BACKOFF_BASE_MS, capMs: init.backoff?.capMs ?? DEFAULT_BACKOFF_CAP_MS }
  }

  /** One answer from whichever peer the balancer and the retry policy end up with. */
  async call<T = unknown> (service: string, method: string, args: unknown, opts: RpcCallOptions = {}): Promise<RpcReply<T>> {
    let result: unknown
    const { peer, attempts } = await this.run(service, method, args, opts, {}, value => { result = value })
    return { result: result as T, peer, attempts }
  }

  /**
   * A streamed answer, item by item. Failures before the first item are retried like a
   * call; after it they are final (the items already seen cannot be taken back).
   */
  async * stream<T = unknown> (service: string, method: string, args: unknown, opts: RpcStreamOptions = {}): AsyncGenerator<T> {
    const items = pushable<T>({ objectMode: true })
    let finished = false
    let failure: unknown
    let started = false
    const hooks: AttemptHooks = {
      onItem: value => { started = true; items.push(value as T) },
      committed: () => started
    }
    const consumerGone = new AbortController()
    const signal = opts.signal != null ? AbortSignal.any([opts.signal, consumerGone.signal]) : consumerGone.signal
    // A method that answers with one value instead of a stream yields that one value. A
    // failure is thrown after the items that came before it, so it ends the queue cleanly
    // (ending it with the error would drop those items).
    void this.run(service, method, args, { ...opts, signal }, hooks, value => { items.push(value as T) }).then(
      () => { finished = true; items.end() },
      err => { failure = err; finished = true; items.end() }
    )
    try {
      yield * items
      if (failure != null) throw failure
    } finally {
      // The consumer stopped early (break, throw): cancel the call on the peer.
      if (!finished) consumerGone.abort()
    }
  }

  private async run (service: string, method: string, args: unknown, opts: RpcStreamOptions, hooks: AttemptHooks,
    onResult: (value: unknown) => void): Promise<{ peer: string, attempts: number }> {
    const key = `${service}.${method}`
    const deadlineMs = opts.deadlineMs ?? DEFAULT_DEADLINE_MS
    if (!Number.isInteger(deadlineMs) || deadlineMs < 1 || deadlineMs > MAX_DEADLINE_MS) throw new InvalidArgumentsError(`deadlineMs must be a whole number from 1 to ${MAX_DEADLINE_MS}`)
    const maxAttempts = opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > MAX_ATTEMPTS) throw new InvalidArgumentsError(`maxAttempts must be from 1 to ${MAX_ATTEMPTS}`)
    const idempotent = opts.idempotent ?? this.idempotentOf(service, method) ?? false
    const attemptTimeoutMs = opts.attemptTimeoutMs ?? (idempotent ? Math.ceil(deadlineMs / maxAttempts) : deadlineMs)
    if (!Number.isInteger(attemptTimeoutMs) || attemptTimeoutMs < 1) throw new InvalidArgumentsError('attemptTimeoutMs must be a whole number ≥ 1')
    const signal = opts.signal ?? new AbortController().signal
    const exclude = opts.exclude != null ? new Set(opts.exclude) : NO_PEERS
    const deadlineAt = this.clock.now() + deadlineMs
    const failed: FailedAttempt[] = []
    const tried = new Set<string>()

    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) throw new RpcCancelledError(`${key} cancelled`)
      const peer = this.choose(key, opts.peer, exclude, tried)
      if (peer == null) {
        this.metrics?.call(failed.length === 0 ? 'unknown' : key, 'no-peer')
        if (failed.length === 0) throw new NoPeerForServiceError(`no live peer offers ${key}`)
        throw exhausted(key, failed)
      }
      const remaining = deadlineAt - this.clock.now()
      if (remaining <= 0) throw this.fail(key, failed, new DeadlineExceededError(`${key} ran out of its ${deadlineMs} ms deadline`))
      try {
        const inline = this.transport.inline?.(peer, service, method, args, Math.min(attemptTimeoutMs, remaining))
        if (inline != null) {
          // Answered synchronously on this node: no timer, no cancel, no promise in between.
          opts.onPeer?.(peer)
          onResult(inline.value)
        } else {
          await this.attempt(peer, service, method, args, Math.min(attemptTimeoutMs, remaining), signal, hooks, onResult, opts.onPeer)
        }
        this.metrics?.call(key, 'ok')
        return { peer, attempts: attempt }
      } catch (err: any) {
        if (signal.aborted) {
          this.metrics?.call(key, 'cancelled')
          throw new RpcCancelledError(`${key} cancelled`)
        }
        failed.push({ peer, error: toErrorBody(err) })
        tried.add(peer)
        const name = String(err?.name)
        const retryable = hooks.committed?.() !== true && (
          NOT_EXECUTED_ERRORS.has(name) ||
          (idempotent && MAYBE_EXECUTED_ERRORS.has(name)) ||
          (NOT_SERVED_ERRORS.has(name) && opts.peer == null && this.hasUntried(key, exclude, tried)))
        if (!retryable) {
          this.metrics?.call(key, 'failed')
          throw err
        }
        if (attempt >= maxAttempts) throw this.fail(key, failed)
        const delay = backoffDelay(attempt, { ...this.backoff, jitter: 'full', random: this.random })
        if (this.clock.now() + delay >= deadlineAt) throw this.fail(key, failed)
        this.log('%s failed on %s (%s), retrying in %d ms', key, peer, name, Math.round(delay))
        // Cut short by the caller's signal: the loop then reports the cancel.
        await this.clock.sleep(delay, signal).catch(() => {})
        this.metrics?.retry(key)
      }
    }
  }

  /** The pinned peer, or a p2c pick among untried candidates (all candidates once every one was tried). */
  private choose (key: string, pinned: string | undefined, exclude: ReadonlySet<string>, tried: ReadonlySet<string>): string | undefined {
    if (pinned != null) return exclude.has(pinned) ? undefined : pinned
    const members = this.members()
    // A first attempt (nothing tried) skips only the exclusions: no set is built per call.
    const skip = tried.size === 0 ? exclude : new Set([...exclude, ...tried])
    let candidates = candidatesFor(key, members, skip, this.inflightOf, this.selfId)
    if (candidates.length === 0 && tried.size > 0) candidates = candidatesFor(key, members, exclude, this.inflightOf, this.selfId)
    return pickPeer(candidates, this.random)?.id
  }

  private hasUntried (key: string, exclude: ReadonlySet<string>, tried: ReadonlySet<string>): boolean {
    return candidatesFor(key, this.members(), new Set([...exclude, ...tried]), () => 0, this.selfId).length > 0
  }

  /**
   * One request to one peer, settled by its answer, its timeout or the caller's signal. On
   * a timeout or a cancel the request is cancelled on the peer too.
   */
  private async attempt (peer: string, service: string, method: string, args: unknown, timeoutMs: number, signal: AbortSignal,
    hooks: AttemptHooks, onResult: (value: unknown) => void, onPeer?: (peer: string) => void): Promise<void> {
    const abandoned = new AbortController()
    let cancel: (() => void) | undefined
    let answered = false
    let announced = false
    const announce = (): void => { if (!announced) { announced = true; onPeer?.(peer) } }
    const { promise: outcome, resolve, reject } = Promise.withResolvers<void>()
    const timer = this.clock.setTimeout(() => {
      reject(new DeadlineExceededError(`${service}.${method} on ${peer} did not answer within ${timeoutMs} ms`))
    }, timeoutMs)
    const listener: CallListener = {
      onResult: value => { answered = true; announce(); onResult(value); resolve() },
      onItem: value => { announce(); hooks.onItem?.(value) },
      onEnd: () => { answered = true; announce(); resolve() },
      onError: err => { answered = true; reject(err) }
    }
    this.transport.start(peer, service, method, args, timeoutMs, listener, abandoned.signal).then(
      c => { cancel = c; if (abandoned.signal.aborted) c() },
      reject
    )
    try {
      await raceSignal(outcome, signal)
    } catch (err) {
      // Timed out or given up before the peer answered: stop the request there as well.
      if (!answered) {
        abandoned.abort()
        cancel?.()
      }
      throw err
    } finally {
      timer.clear()
    }
  }

  private fail (key: string, failed: FailedAttempt[], last?: Error): Error {
    this.metrics?.call(key, 'failed')
    if (failed.length === 0 && last != null) return last
    return exhausted(key, failed)
  }
}

function exhausted (key: string, failed: FailedAttempt[]): AllAttemptsFailedError {
  const last = failed[failed.length - 1]
  const n = failed.length
  return new AllAttemptsFailedError(`${key} failed after ${n} attempt${n === 1 ? '' : 's'} (last on …${last.peer.slice(-6)}: ${last.error.message})`, failed)
}
