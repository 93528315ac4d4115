import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Time as the services see it: the wall clock and the timers, injected so that a whole node
 * can run under a fake clock (unit tests, the in-process simulation tier) and many nodes can
 * share one process without sharing one timeline.
 */
export interface Timer {
  /** Cancels the timer; harmless when it already fired or was cleared. */
  clear: () => void
  /** Lets the process exit while this timer is pending (a no-op under a fake clock). */
  unref: () => Timer
}

export interface Clock {
  /** Milliseconds since the epoch, like Date.now(). */
  now: () => number
  setTimeout: (fn: () => void, ms: number) => Timer
  setInterval: (fn: () => void, ms: number) => Timer
  /** Resolves after `ms`; rejects with the signal's reason when it aborts first. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>
}

function wrap (handle: NodeJS.Timeout, clear: (h: NodeJS.Timeout) => void): Timer {
  const timer: Timer = {
    clear: () => { clear(handle) },
    unref: () => { handle.unref(); return timer }
  }
  return timer
}

/** The real clock: Date.now and Node's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => wrap(setTimeout(fn, ms), clearTimeout),
  setInterval: (fn, ms) => wrap(setInterval(fn, ms), clearInterval),
  sleep: async (ms, signal) => {
    try {
      await sleep(ms, undefined, { signal })
    } catch (err) {
      // node:timers/promises rejects with its own AbortError; callers (and FakeClock) see
      // the signal's reason, which says why the wait was cut short.
      throw signal?.aborted === true ? signal.reason : err
    }
  }
}
