import {
  AllAttemptsFailedError, DeadlineExceededError, InvalidArgumentsError, MAX_DEADLINE_MS, MAYBE_EXECUTED_ERRORS,
  NOT_EXECUTED_ERRORS, NOT_SERVED_ERRORS, NoPeerForServiceError, RpcCancelledError, toErrorBody, type FailedAttempt
} from '../../protocols/rpc/index.ts'
import { backoffDelay, type BackoffInit } from '../time/backoff.ts'
import { candidatesFor, pickPeer, type MemberLike } from './balancer.ts'
import type { CallListener } from './client-channel.ts'
import type { RpcMetrics } from './rpc-metrics.ts'
import type { RpcCallOptions, RpcReply, RpcStreamOptions } from './rpc-types.ts'

/** A call with no deadline given gets this long, retries included. */
export const DEFAULT_DEADLINE_MS = 10_000
/** Attempts in all (PRIMES.md §5: Ray and Dask settle on 3). */
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
}

export interface RpcClientComponents {
  transport: RpcTransport
  /** Every member this node knows, itself included. */
  members: () => readonly MemberLike[]
  selfId: string
  /** The local registration's idempotency of a method, when this node serves it. */
  idempotentOf?: (service: string, method: string) => boolean | undefined
  metrics?: RpcMetrics
}

export interface RpcClientInit {
  now?: () => number
  random?: () => number
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>
  backoff?: Partial<Omit<BackoffInit, 'random' | 'jitter'>>
}

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
  private readonly now: () => number
  private readonly random: () => number
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>
  private readonly backoff: Omit<BackoffInit, 'random' | 'jitter'>

  constructor (components: RpcClientComponents, init: RpcClientInit = {}) {
    this.transport = components.transport
    this.members = components.members
    this.selfId = components.selfId
    this.idempotentOf = components.idempotentOf ?? (() => undefined)
    this.metrics = components.metrics
    this.now = init.now ?? Date.now
    this.random = init.random ?? Math.random
    this.sleep = init.sleep ?? abortableSleep
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
    const queue: unknown[] = []
    let wake: (() => void) | undefined
    let finished = false
    let failure: unknown
    let started = false
    const hooks: AttemptHooks = {
      onItem: value => { started = true; queue.push(value); wake?.() },
      committed: () => started
    }
    const consumerGone = new AbortController()
    const signal = opts.signal != null ? AbortSignal.any([opts.signal, consumerGone.signal]) : consumerGone.signal
    // A method that answers with one value instead of a stream yields that one value.
    void this.run(service, method, args, { ...opts, signal }, hooks, value => { queue.push(value) }).then(
      () => { finished = true; wake?.() },
      err => { failure = err; finished = true; wake?.() }
    )
    try {
      while (true) {
        if (queue.length > 0) {
          yield queue.shift() as T
          continue
        }
        if (finished) {
          if (failure != null) throw failure
          return
        }
        await new Promise<void>(resolve => { wake = resolve })
        wake = undefined
      }
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
    const exclude = new Set(opts.exclude ?? [])
    const deadlineAt = this.now() + deadlineMs
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
      const remaining = deadlineAt - this.now()
      if (remaining <= 0) throw this.fail(key, failed, new DeadlineExceededError(`${key} ran out of its ${deadlineMs} ms deadline`))
      try {
        await this.attempt(peer, service, method, args, Math.min(attemptTimeoutMs, remaining), signal, hooks, onResult, opts.onPeer)
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
        if (this.now() + delay >= deadlineAt) throw this.fail(key, failed)
        await this.sleep(delay, signal).catch(() => {})
        this.metrics?.retry(key)
      }
    }
  }

  /** The pinned peer, or a p2c pick among untried candidates (all candidates once every one was tried). */
  private choose (key: string, pinned: string | undefined, exclude: ReadonlySet<string>, tried: ReadonlySet<string>): string | undefined {
    if (pinned != null) return exclude.has(pinned) ? undefined : pinned
    const members = this.members()
    const inflight = (id: string): number => this.transport.inflight(id)
    let candidates = candidatesFor(key, members, new Set([...exclude, ...tried]), inflight, this.selfId)
    if (candidates.length === 0 && tried.size > 0) candidates = candidatesFor(key, members, exclude, inflight, this.selfId)
    return pickPeer(candidates, this.random)?.id
  }

  private hasUntried (key: string, exclude: ReadonlySet<string>, tried: ReadonlySet<string>): boolean {
    return candidatesFor(key, this.members(), new Set([...exclude, ...tried]), () => 0, this.selfId).length > 0
  }

  private async attempt (peer: string, service: string, method: string, args: unknown, timeoutMs: number, signal: AbortSignal,
    hooks: AttemptHooks, onResult: (value: unknown) => void, onPeer?: (peer: string) => void): Promise<void> {
    const attemptSignal = new AbortController()
    let cancel: (() => void) | undefined
    let announced = false
    const announce = (): void => { if (!announced) { announced = true; onPeer?.(peer) } }
    const outcome = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cancel?.()
        attemptSignal.abort()
        reject(new DeadlineExceededError(`${service}.${method} on ${peer} did not answer within ${timeoutMs} ms`))
      }, timeoutMs)
      const onAbort = (): void => { cancel?.(); attemptSignal.abort(); reject(new RpcCancelledError('cancelled')) }
      signal.addEventListener('abort', onAbort, { once: true })
      const done = (): void => { clearTimeout(timer); signal.removeEventListener('abort', onAbort) }
      const listener: CallListener = {
        onResult: value => { done(); announce(); onResult(value); resolve() },
        onItem: value => { announce(); hooks.onItem?.(value) },
        onEnd: () => { done(); announce(); resolve() },
        onError: err => { done(); reject(err) }
      }
      this.transport.start(peer, service, method, args, timeoutMs, listener, attemptSignal.signal).then(
        c => { cancel = c; if (attemptSignal.signal.aborted) c() },
        err => { done(); reject(err) }
      )
    })
    await outcome
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
  return new AllAttemptsFailedError(`${key} failed after ${n} attempt${n === 1 ? '' : 's'} (last on ${last.peer.slice(-6)}: ${last.error.name}: ${last.error.message})`, failed)
}

async function abortableSleep (ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve() }, ms)
    const onAbort = (): void => { clearTimeout(timer); reject(new RpcCancelledError('cancelled')) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
