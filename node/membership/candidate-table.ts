import type { Heartbeat } from '../../protocols/membership/index.ts'

/** A peer heard of through gossip but never seen connected: its newest heartbeat. */
export interface Candidate {
  heartbeat: Heartbeat
  /** Local clock time of its newest heartbeat. */
  lastHeardAt: number
}

export interface CandidateTableInit {
  /** The local clock in ms. */
  now: () => number
  /** Candidates kept at most. Default MAX_CANDIDATES. */
  maxCandidates?: number
  /** A candidate silent this long is dropped: a member would be dead by then. */
  forgetAfterMs: number
  /** A candidate was dropped to make room for a newer one. */
  onDropped?: () => void
}

/**
 * Far above the peers that join a LAN mesh within the second or two a dial takes, far below
 * the member table: a peer relaying heartbeats of fresh ids churns this table, not that one.
 */
export const MAX_CANDIDATES = 64

/**
 * Peers whose heartbeats this node heard relayed but that it has never been connected to.
 * A heartbeat proves only that somebody holds the key; peer ids cost nothing, so such a peer
 * waits here, not in the member table, until a connection proves it exists. Ordered by the
 * last heartbeat heard: when full, the one silent the longest is dropped, so a live newcomer
 * beating every interval outlasts a burst of strangers that beat once.
 */
export class CandidateTable {
  private readonly candidates = new Map<string, Candidate>()
  private readonly now: () => number
  private readonly max: number
  private readonly forgetAfterMs: number
  private readonly onDropped: () => void

  constructor (init: CandidateTableInit) {
    this.now = init.now
    this.max = init.maxCandidates ?? MAX_CANDIDATES
    this.forgetAfterMs = init.forgetAfterMs
    this.onDropped = init.onDropped ?? (() => {})
  }

  get size (): number {
    return this.candidates.size
  }

  has (id: string): boolean {
    return this.candidates.has(id)
  }

  list (): Candidate[] {
    return [...this.candidates.values()]
  }

  /** Keeps `hb` as its origin's newest heartbeat; true when the origin is a new candidate. */
  offer (hb: Heartbeat): boolean {
    const known = this.candidates.get(hb.id)
    if (known != null) {
      const newer = hb.incarnation > known.heartbeat.incarnation ||
        (hb.incarnation === known.heartbeat.incarnation && hb.seq > known.heartbeat.seq)
      if (!newer) return false
      // Re-inserted: the Map's order is the order of the last heartbeat heard.
      this.candidates.delete(hb.id)
      this.candidates.set(hb.id, { heartbeat: hb, lastHeardAt: this.now() })
      return false
    }
    if (this.candidates.size >= this.max) {
      const oldest = this.candidates.keys().next().value
      if (oldest != null) this.candidates.delete(oldest)
      this.onDropped()
    }
    this.candidates.set(hb.id, { heartbeat: hb, lastHeardAt: this.now() })
    return true
  }

  /** Removes and returns the candidate `id` (admitted, or gone). */
  take (id: string): Candidate | undefined {
    const candidate = this.candidates.get(id)
    this.candidates.delete(id)
    return candidate
  }

  /** Drops the candidates silent for longer than forgetAfterMs; returns how many. */
  expire (): number {
    const now = this.now()
    let expired = 0
    // Oldest first: stop at the first one heard recently enough.
    for (const [id, c] of this.candidates) {
      if (now - c.lastHeardAt <= this.forgetAfterMs) break
      this.candidates.delete(id)
      expired++
    }
    return expired
  }
}
