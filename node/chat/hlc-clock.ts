import { compareHlc, MAX_FUTURE_SKEW_MS, MAX_LOGICAL, type Hlc } from '../../protocols/chat/index.ts'
import { systemClock, type Clock } from '../time/clock.ts'

export interface HybridClockComponents {
  /** The physical time source: the node's clock (a fake one in tests). */
  clock?: Pick<Clock, 'now'>
}

export interface HybridClockInit {
  /**
   * A peer whose clock runs further ahead than this does not drag ours along: its messages
   * are still stored and sorted by their own timestamp, but ours do not all jump after them.
   */
  maxDriftMs?: number
}

/** The receive-side bound on a message's lead is also how far a peer may drag our clock. */
const DEFAULT_MAX_DRIFT_MS = MAX_FUTURE_SKEW_MS

/**
 * A hybrid logical clock (Kulkarni et al.): timestamps follow the wall clock, never go
 * backwards, and a message sent after another was seen always sorts after it, even when
 * the sender's wall clock lags behind the other's.
 */
export class HybridClock {
  private last: Hlc = { ts: 0, lc: 0 }
  private readonly wall: Pick<Clock, 'now'>
  private readonly maxDriftMs: number

  constructor (components: HybridClockComponents = {}, init: HybridClockInit = {}) {
    this.wall = components.clock ?? systemClock
    this.maxDriftMs = init.maxDriftMs ?? DEFAULT_MAX_DRIFT_MS
  }

  /** A timestamp for a new local event, later than every one issued or observed before. */
  tick (): Hlc {
    const wall = this.wall.now()
    if (wall > this.last.ts) this.last = { ts: wall, lc: 0 }
    // The counter has a ceiling the codec enforces; past it, carry into the millisecond
    // (still later than everything seen) so the clock never issues a timestamp peers refuse.
    else if (this.last.lc >= MAX_LOGICAL) this.last = { ts: this.last.ts + 1, lc: 0 }
    else this.last = { ts: this.last.ts, lc: this.last.lc + 1 }
    return { ...this.last }
  }

  /** Takes a remote timestamp into account, unless it is implausibly far ahead of our wall. */
  observe (remote: Hlc): void {
    if (remote.ts > this.wall.now() + this.maxDriftMs) return
    if (compareHlc(remote, this.last) > 0) this.last = { ts: remote.ts, lc: remote.lc }
  }
}
