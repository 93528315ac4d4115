import { DeadlineExceededError, RpcCancelledError } from '../../protocols/rpc/index.ts'
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

/**
 * Runs one handler with an AbortSignal that fires on cancel, on the deadline, or when the
 * parent signal (the server's stop) fires. Exactly one of result / end / error reaches the
 * sink, unless the run is cancelled first; a handler that ignores its signal finishes into
 * the void.
 */
export function runHandler (entry: RegisteredMethod, args: unknown, caller: string, deadlineMs: number, sink: AnswerSink, parent?: AbortSignal): HandlerRun {
  const controller = new AbortController()
  let settled = false
  let cancelled = false
  const settle = (): boolean => {
    if (settled) return false
    settled = true
    clearTimeout(timer)
    parent?.removeEventListener('abort', onParentAbort)
    return true
  }
  const cancel = (reason: Error): void => {
    if (!settle()) return
    cancelled = true
    controller.abort(reason)
  }
  const timer = setTimeout(() => {
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
      const outcome = entry.handler(args, { signal: controller.signal, caller, deadline: Date.now() + deadlineMs })
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
