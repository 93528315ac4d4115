import { DeadlineExceededError, RpcCancelledError } from '../../protocols/rpc/index.ts'
import type { Clock } from '../time/clock.ts'
import type { RegisteredMethod } from './service-registry.ts'

/** Where a handler's answer goes: a stream session or a local caller. */
export interface AnswerSink {
  /** A plain answer. */
  result: (value: unknown) => void
  /** One element of a streamed answer; resolves when the sink can take more (backpressure). */
  item: (value: unknown) => Promise<void> | void
  /** The streamed answer is complete. */
  end: () => void
  error: (err: unknown) => void
}

export interface HandlerRun {
  /** Aborts the handler's signal; nothing more reaches the sink. */
  cancel: (reason: Error) => void
  /** Settles when the handler finished, whatever the outcome. */
  done: Promise<'ok' | 'failed' | 'cancelled'>
}

/** One request as the runner needs it. */
export interface HandlerCall {
  args: unknown
  /** Peer id of the caller; this node's own id for a local call. */
  caller: string
  /** Budget from now; the handler is aborted and the caller told when it runs out. */
  deadlineMs: number
}

export interface HandlerEnv {
  /** Times the deadline and tells the handler when its answer is due. */
  clock: Clock
  /** The server's stop: aborts every run. */
  stopSignal?: AbortSignal
}

/**
 * Runs one handler with an AbortSignal that fires on cancel, on the deadline, or when the
 * server stops. Exactly one of result / end / error reaches the sink, unless the run is
 * cancelled first; a handler that ignores its signal finishes into the void.
 */
export function runHandler (entry: RegisteredMethod, call: HandlerCall, sink: AnswerSink, env: HandlerEnv): HandlerRun {
  const { args, caller, deadlineMs } = call
  const { clock, stopSignal: parent } = env
  const controller = new AbortController()
  let settled = false
  let cancelled = false
  const settle = (): boolean => {
    if (settled) return false
    settled = true
    timer.clear()
    parent?.removeEventListener('abort', onParentAbort)
    return true
  }
  const cancel = (reason: Error): void => {
    if (!settle()) return
    cancelled = true
    controller.abort(reason)
  }
  const timer = clock.setTimeout(() => {
    if (!settle()) return
    const err = new DeadlineExceededError(`${entry.key} did not answer within ${deadlineMs} ms`)
    controller.abort(err)
    sink.error(err)
  }, deadlineMs)
  const onParentAbort = (): void => { cancel(new RpcCancelledError('the node is stopping')) }
  if (parent?.aborted === true) onParentAbort()
  else parent?.addEventListener('abort', onParentAbort, { once: true })

  const done = (async (): Promise<'ok' | 'failed' | 'cancelled'> => {
    // Start the handler on the next microtask: the caller records the run before any
    // answer (a handler that throws at once would otherwise answer before it is known).
    await null
    try {
      const outcome = entry.handler(args, { signal: controller.signal, caller, deadline: clock.now() + deadlineMs })
      if (isAsyncIterable(outcome)) {
        for await (const value of outcome) {
          if (settled) break
          await sink.item(value)
        }
        if (!settle()) return cancelled ? 'cancelled' : 'failed'
        sink.end()
      } else {
        const value = await outcome
        if (!settle()) return cancelled ? 'cancelled' : 'failed'
        // `undefined` is not JSON: a method that returns nothing answers null.
        sink.result(value === undefined ? null : value)
      }
      return 'ok'
    } catch (err) {
      if (!settle()) return cancelled ? 'cancelled' : 'failed'
      sink.error(err)
      return 'failed'
    }
  })()
  return { cancel, done }
}

export function isAsyncIterable (value: unknown): value is AsyncIterable<unknown> {
  return value != null && typeof (value as any)[Symbol.asyncIterator] === 'function'
}
