import type { ComputePeer, PeerReport, ShardRange, ShardResult } from './types.ts'
import { backoffDelay } from '../../time/backoff.ts'
import type { Vote } from './verify-quorum.ts'

export interface Shard {
  range: ShardRange
  done: boolean
  result?: ShardResult
  /** Attempts started, over all runs of the job (journaled). */
  attempts: number
  /** Failures of the shard's own (its call failed on a peer that stayed reachable): the retry cap. */
  failures: number
  /** Attempts lost with their peer (it died, left or became unreachable): a looser cap of their own. */
  peerLosses: number
  failedPeers: Set<string>
  votes: Array<Vote & { seconds: number }>
  /** Results to collect: 1, or in verify mode 2 and one more per disagreement. */
  needed: number
  backedUp: boolean
  running: Set<Attempt>
}

export interface Attempt {
  id: number
  shard: Shard
  peer: string
  backup: boolean
  startedAt: number
  /** First progress report: when a queued (prefetched) shard really started computing. */
  computeStartedAt?: number
  done: bigint
  leaseMs: number
  leaseUntil: number
  /** Lease ran out: the shard went back to the queue, but this attempt may still win. */
  expired: boolean
}

interface PeerState extends ComputePeer {
  paused: boolean
  inflight: Set<Attempt>
  failures: number
  backoffUntil: number
}

/** The scheduler's bookkeeping: shards, attempts and peers, and the queries over them. */
export class ShardLedger {
  private readonly shards = new Map<number, Shard>()
  private readonly pending = new Set<Shard>()
  private readonly attempts = new Map<number, Attempt>()
  private readonly peers = new Map<string, PeerState>()
  private readonly reports = new Map<string, PeerReport>()
  private nextAttempt = 1
  private done = 0
  private widthDone = 0n

  addShard (saved: { index: number, from: bigint, to: bigint, attempts: number }, needed: number): Shard {
    const shard: Shard = {
      range: { index: saved.index, from: saved.from, to: saved.to },
      done: false,
      attempts: saved.attempts,
      failures: 0,
      peerLosses: 0,
      failedPeers: new Set(),
      votes: [],
      needed,
      backedUp: false,
      running: new Set()
    }
    this.shards.set(saved.index, shard)
    this.refresh(shard)
    return shard
  }

  markDone (shard: Shard, result: ShardResult, peer: string, seconds: number): void {
    if (shard.done) return
    shard.done = true
    shard.result = result
    this.done++
    this.widthDone += shard.range.to - shard.range.from + 1n
    const report = this.reportOf(peer)
    report.shards++
    report.seconds += seconds
    this.pending.delete(shard)
  }

  /** A shard is pending while it lacks results and live (unexpired) attempts to bring them. */
  refresh (shard: Shard): void {
    let live = 0
    for (const a of shard.running) if (!a.expired) live++
    if (!shard.done && live + shard.votes.length < shard.needed) this.pending.add(shard)
    else this.pending.delete(shard)
  }

  isPending (shard: Shard): boolean { return this.pending.has(shard) }
  pendingCount (): number { return this.pending.size }
  allDone (): boolean { return this.done === this.shards.size }
  doneCount (): number { return this.done }
  doneWidth (): bigint { return this.widthDone }
  runningCount (): number { return this.attempts.size }
  shardsInOrder (): Shard[] { return [...this.shards.values()].sort((a, b) => a.range.index - b.range.index) }

  upsertPeer (peer: ComputePeer, paused: boolean): void {
    const known = this.peers.get(peer.id)
    if (known != null) {
      known.slots = peer.slots
      known.paused = paused
      return
    }
    this.peers.set(peer.id, { id: peer.id, slots: peer.slots, paused, inflight: new Set(), failures: 0, backoffUntil: 0 })
    this.reportOf(peer.id)
  }

  peer (id: string): PeerState | undefined { return this.peers.get(id) }
  peerIds (): string[] { return [...this.peers.keys()] }
  removePeer (id: string): void { this.peers.delete(id) }

  totalSlots (): number {
    let slots = 0
    for (const p of this.peers.values()) slots += p.slots
    return slots
  }

  attempt (id: number): Attempt | undefined { return this.attempts.get(id) }
  liveAttempts (): Attempt[] { return [...this.attempts.values()] }
  attemptsOf (peer: string): Attempt[] { return [...(this.peers.get(peer)?.inflight ?? [])] }
  attemptsOn (shard: Shard): Attempt[] { return [...shard.running] }

  startAttempt (shard: Shard, peer: string, backup: boolean, now: number, leaseMs: number): Attempt {
    const attempt: Attempt = { id: this.nextAttempt++, shard, peer, backup, startedAt: now, done: 0n, leaseMs, leaseUntil: now + leaseMs, expired: false }
    this.attempts.set(attempt.id, attempt)
    shard.running.add(attempt)
    shard.attempts++
    this.peers.get(peer)?.inflight.add(attempt)
    this.refresh(shard)
    return attempt
  }

  finishAttempt (attempt: Attempt): void {
    this.attempts.delete(attempt.id)
    attempt.shard.running.delete(attempt)
    this.peers.get(attempt.peer)?.inflight.delete(attempt)
    this.refresh(attempt.shard)
  }

  /** The peer with the most room (worker slots + prefetch - in flight), if any has room. */
  mostFreePeer (prefetch: number, now: number, skip: Set<string>): PeerState | null {
    let best: PeerState | null = null
    let bestFree = 0
    for (const p of this.peers.values()) {
      if (p.paused || now < p.backoffUntil || skip.has(p.id)) continue
      const free = p.slots + prefetch - p.inflight.size
      if (free > bestFree) { best = p; bestFree = free }
    }
    return best
  }

  /** The lowest pending shard this peer may take. */
  pendingFor (peer: string, verify: boolean): Shard | null {
    let best: Shard | null = null
    for (const shard of this.pending) {
      if (!this.eligible(shard, peer, verify)) continue
      if (best == null || shard.range.index < best.range.index) best = shard
    }
    return best
  }

  /** Running attempts older than `thresholdMs`, slowest first, whose shard has no copy yet. */
  stragglers (now: number, thresholdMs: number): Attempt[] {
    return [...this.attempts.values()]
      .filter(a => !a.expired && !a.shard.done && !a.shard.backedUp && a.shard.running.size === 1 &&
        now - (a.computeStartedAt ?? a.startedAt) > thresholdMs)
      .sort((a, b) => (a.computeStartedAt ?? a.startedAt) - (b.computeStartedAt ?? b.startedAt))
  }

  /** A peer with an idle worker slot that is not already on this shard. */
  idlePeerFor (shard: Shard, now: number): PeerState | null {
    for (const p of this.peers.values()) {
      if (p.paused || now < p.backoffUntil || p.inflight.size >= p.slots) continue
      if (this.eligible(shard, p.id, true)) return p
    }
    return null
  }

  /** Exponential rest after a failed call, with jitter, so a crashing peer does not eat retries. */
  backOff (peer: string, now: number, baseMs: number, maxMs: number, random: () => number): void {
    const p = this.peers.get(peer)
    if (p == null) return
    p.failures++
    p.backoffUntil = now + backoffDelay(p.failures, { baseMs, capMs: maxMs, jitter: 'equal', random })
  }

  peerReports (): PeerReport[] {
    return [...this.reports.values()].map(r => ({ ...r })).sort((a, b) => b.shards - a.shards || a.id.localeCompare(b.id))
  }

  private reportOf (peer: string): PeerReport {
    let report = this.reports.get(peer)
    if (report == null) {
      report = { id: peer, shards: 0, seconds: 0 }
      this.reports.set(peer, report)
    }
    return report
  }

  private eligible (shard: Shard, peer: string, distinct: boolean): boolean {
    for (const a of shard.running) if (a.peer === peer) return false
    if (distinct && shard.votes.some(v => v.peer === peer)) return false
    // A peer that failed this shard gets it again only when no other peer could take it.
    if (shard.failedPeers.has(peer) && [...this.peers.keys()].some(id => !shard.failedPeers.has(id))) return false
    return true
  }
}
