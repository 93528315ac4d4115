import type { Clock, Timer } from './clock.ts'

interface Scheduled {
  id: number
  at: number
  fn: () => void
  /** Repeat period for intervals; undefined for one-shot timers. */
  every?: number
}

/**
 * A clock that moves only when told to. Timers fire in time order (then in the order they
 * were set) as `advance` passes their due time, each seeing `now()` equal to its due time.
 * Used by the unit tests and by simulations that run many nodes in one process.
 */
export class FakeClock implements Clock {
  private current: number
  private nextId = 1
  private readonly pending = new Map<number, Scheduled>()

  constructor (startMs = 1_700_000_000_000) {
    this.current = startMs
  }

  now = (): number => this.current

  setTimeout = (fn: () => void, ms: number): Timer => this.schedule(fn, ms)

  setInterval = (fn: () => void, ms: number): Timer => this.schedule(fn, ms, Math.max(1, ms))

  sleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
    signal?.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => { timer.clear(); reject(signal?.reason) }
      const timer = this.schedule(() => { signal?.removeEventListener('abort', onAbort); resolve() }, ms)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Timers not yet fired or cleared. */
  get pendingTimers (): number {
    return this.pending.size
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way, and lets the
   * promise callbacks each one starts run before the next fires.
   */
  async advance (ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError('ms must be >= 0')
    const until = this.current + ms
    for (;;) {
      const next = this.earliest()
      if (next == null || next.at > until) break
      this.current = next.at
      if (next.every != null) next.at += next.every
      else this.pending.delete(next.id)
      next.fn()
      await flushMicrotasks()
    }
    this.current = until
    await flushMicrotasks()
  }

  private earliest (): Scheduled | undefined {
    let best: Scheduled | undefined
    for (const s of this.pending.values()) {
      if (best == null || s.at < best.at || (s.at === best.at && s.id < best.id)) best = s
    }
    return best
  }

  private schedule (fn: () => void, ms: number, every?: number): Timer {
    const id = this.nextId++
    this.pending.set(id, { id, at: this.current + Math.max(0, ms), fn, every })
    const timer: Timer = {
      clear: () => { this.pending.delete(id) },
      unref: () => timer
    }
    return timer
  }
}

/** Lets already-queued promise callbacks (and the ones they queue) run. */
async function flushMicrotasks (): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve()
}
