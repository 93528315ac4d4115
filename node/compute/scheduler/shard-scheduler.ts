import { ShardDisagreementError, ShardRetryLimitError } from './errors.ts'
import { RateTracker } from './rate-tracker.ts'
import { combine, implausibility } from './result-check.ts'
import { BACKUP_QUANTILE, MAX_CUT_WIDTH, MAX_PEER_BACKOFF_MS, resolveSchedulerOptions, TAIL_SPLIT, type ResolvedSchedulerOptions, type ShardSchedulerInit } from './scheduler-options.ts'
import { ShardCutter } from './shard-cutter.ts'
import { ShardLedger, type Attempt, type Shard } from './shard-ledger.ts'
import type { Assignment, ComputePeer, JobProgress, JobReport, ShardResult } from './types.ts'
import { MAX_VERIFY_COPIES, tally, VERIFY_QUORUM } from './verify-quorum.ts'

/**
 * Whose trouble a failed attempt was: the shard's own (the peer ran it and it failed: an
 * error, an implausible result), or the peer's (it was lost, or the call never reached it).
 */
export type FailureCause = 'shard' | 'peer'

/** What the driver must do after an event: abort these attempts' calls. */
export interface SchedulerOutcome {
  cancel: number[]
}

/**
 * The shard scheduler of one job, as a pure state machine: no I/O, no timers. The driver
 * (JobRunner) reports peers, results, failures, progress and the passing of time, and asks
 * what to start next. Time comes from the injected `now`, so tests run it on a fake clock.
 */
export class ShardScheduler {
  readonly from: bigint
  readonly to: bigint
  readonly verify: boolean
  private readonly opts: ResolvedSchedulerOptions
  private readonly cutter: ShardCutter
  private readonly rates: RateTracker
  private readonly ledger: ShardLedger
  private readonly startedAt: number
  private jobError: Error | null = null
  private readonly stats = { retries: 0, reassigned: 0, backups: 0, duplicatesDropped: 0 }
  private readonly liars = new Set<string>()
  private readonly computeMs: number[] = []

  constructor (init: ShardSchedulerInit) {
    this.opts = resolveSchedulerOptions(init)
    this.from = init.from
    this.to = init.to
    this.verify = this.opts.verify
    this.rates = new RateTracker(this.opts.initialRatePerSlot)
    this.ledger = new ShardLedger()
    this.startedAt = this.opts.now()
    const restored = [...(init.restored ?? [])].sort((a, b) => a.index - b.index)
    const last = restored.at(-1)
    this.cutter = new ShardCutter(init.from, init.to, last != null ? { frontier: last.to + 1n, nextIndex: last.index + 1 } : undefined, init.minShardWidth)
    for (const saved of restored) {
      const shard = this.ledger.addShard(saved, this.needed())
      shard.attempts = saved.attempts
      if (saved.result != null) {
        this.ledger.markDone(shard, saved.result, saved.peer ?? 'unknown', saved.seconds ?? 0)
      } else {
        // It was in flight when the coordinator stopped: do it again.
        this.stats.reassigned++
        this.opts.journal?.shardRequeued(shard.range.index)
      }
      this.ledger.refresh(shard)
    }
  }

  /** The error that ended the job, if one did. */
  get error (): Error | null {
    return this.jobError
  }

  get done (): boolean {
    return this.jobError == null && this.cutter.exhausted && this.ledger.allDone()
  }

  /** Adds a peer or updates its worker slots; a paused peer gets no new work (suspect). */
  upsertPeer (peer: ComputePeer, paused = false): void {
    this.ledger.upsertPeer(peer, paused)
  }

  hasPeer (id: string): boolean {
    return this.ledger.peer(id) != null
  }

  peerIds (): string[] {
    return this.ledger.peerIds()
  }

  /** The peer is dead or left: take its shards back and abort its calls. */
  removePeer (id: string): SchedulerOutcome {
    const cancel: number[] = []
    for (const attempt of this.ledger.attemptsOf(id)) {
      cancel.push(attempt.id)
      this.ledger.finishAttempt(attempt)
      if (!attempt.shard.done) this.shardFailed(attempt.shard, id, `peer ${id} lost`, 'peer')
    }
    this.ledger.removePeer(id)
    return { cancel }
  }

  /** Work to start now: pulls by free capacity, then backup copies of stragglers. */
  nextAssignments (): Assignment[] {
    if (this.jobError != null) return []
    const out: Assignment[] = []
    const now = this.opts.now()
    const skip = new Set<string>()
    for (let guard = 0; guard < 100_000; guard++) {
      const peer = this.ledger.mostFreePeer(this.opts.prefetch, now, skip)
      if (peer == null) break
      const shard = this.ledger.pendingFor(peer.id, this.verify) ?? this.cutFor(peer.id)
      if (shard == null) { skip.add(peer.id); continue }
      out.push(this.start(shard, peer.id, false, now))
    }
    if (this.ledger.pendingCount() === 0 && this.cutter.exhausted) out.push(...this.backups(now))
    return out
  }

  /**
   * Progress (or a keep-alive, `done` null) renews the attempt's lease for leaseRenewMs: a
   * peer that keeps talking keeps its shard however long it takes; one that falls silent
   * loses it soon after.
   */
  progress (attemptId: number, done: bigint | null): void {
    const attempt = this.ledger.attempt(attemptId)
    if (attempt == null) return
    const now = this.opts.now()
    attempt.leaseUntil = now + this.opts.leaseRenewMs
    if (done != null) {
      attempt.computeStartedAt ??= now
      if (done > attempt.done) attempt.done = done
    }
  }

  /** A result arrived. The first valid one wins; late duplicates are dropped and counted. */
  result (attemptId: number, result: ShardResult, seconds: number): SchedulerOutcome {
    const attempt = this.ledger.attempt(attemptId)
    if (attempt == null) { this.stats.duplicatesDropped++; return { cancel: [] } }
    const { shard, peer } = attempt
    this.ledger.finishAttempt(attempt)
    if (shard.done) { this.stats.duplicatesDropped++; return { cancel: [] } }
    const problem = (this.opts.check ?? implausibility)(shard.range, result)
    if (problem != null) return this.failed(attempt, `implausible result: ${problem}`)
    this.rates.record(peer, shard.range.to - shard.range.from + 1n, seconds)
    this.computeMs.push(seconds * 1000)
    if (!this.verify) return { cancel: this.accept(shard, result, peer, seconds) }
    shard.votes.push({ peer, result, seconds })
    const outcome = tally(shard.votes)
    if (outcome.kind === 'agreed') {
      for (const liar of outcome.dissenters) this.liars.add(liar)
      const winner = shard.votes.find(v => v.peer === outcome.peer)
      return { cancel: this.accept(shard, outcome.result, outcome.peer, winner?.seconds ?? seconds) }
    }
    if (shard.votes.length >= shard.needed) {
      shard.needed = shard.votes.length + 1
      if (shard.needed > MAX_VERIFY_COPIES) {
        this.jobError = new ShardDisagreementError(`shard ${shard.range.index} [${shard.range.from}, ${shard.range.to}]: no two of ${shard.votes.length} peers agree`)
      }
    }
    this.ledger.refresh(shard)
    return { cancel: [] }
  }

  /**
   * The attempt's call failed; the shard goes back to the queue unless it hit its cap.
   * `cause` 'peer': the call never reached the peer or lost it on the way (a closed
   * connection, a refused dial): the peer's trouble, counted against maxPeerLosses, not the
   * shard's own maxFailures.
   */
  fail (attemptId: number, message: string, cause: FailureCause = 'shard'): SchedulerOutcome {
    const attempt = this.ledger.attempt(attemptId)
    if (attempt == null) return { cancel: [] }
    this.ledger.finishAttempt(attempt)
    if (attempt.shard.done) return { cancel: [] }
    return this.failed(attempt, message, cause)
  }

  /** Lease expiry: the shard is handed out again; the old attempt may still finish first. */
  tick (): SchedulerOutcome {
    const now = this.opts.now()
    for (const attempt of this.ledger.liveAttempts()) {
      if (attempt.expired || attempt.leaseUntil > now) continue
      attempt.expired = true
      this.ledger.refresh(attempt.shard)
      // Likely stopped or overloaded: no new work for it for a while.
      this.ledger.backOff(attempt.peer, now, this.opts.peerBackoffMs, MAX_PEER_BACKOFF_MS, this.opts.random)
      // Not a failure towards the cap: the attempt is not cancelled and may still win.
      this.shardFailed(attempt.shard, attempt.peer, `lease expired on ${attempt.peer}`, 'none')
    }
    return { cancel: [] }
  }

  /**
   * The coordinator itself was paused (GC, a starved event loop, SIGSTOP) for `ms`: the
   * peers' reports are still in its socket buffers, so nobody's lease should run out for it.
   */
  extendLeases (ms: number): void {
    for (const attempt of this.ledger.liveAttempts()) attempt.leaseUntil += ms
  }

  progressReport (): JobProgress {
    const now = this.opts.now()
    const total = this.to - this.from + 1n
    const fraction = Number(this.ledger.doneWidth() * 1_000_000n / total) / 1_000_000
    const elapsedMs = now - this.startedAt
    return {
      fraction,
      doneShards: this.ledger.doneCount(),
      cutShards: this.cutter.cutCount,
      running: this.ledger.runningCount(),
      elapsedMs,
      etaMs: fraction > 0 ? Math.round(elapsedMs * (1 - fraction) / fraction) : null,
      peers: this.ledger.peerReports(),
      retries: this.stats.retries,
      reassigned: this.stats.reassigned,
      backups: this.stats.backups
    }
  }

  report (): JobReport {
    const shards = this.ledger.shardsInOrder()
    return {
      from: this.from,
      to: this.to,
      ...combine(shards.filter(s => s.done).map(s => s.result as ShardResult)),
      shards: shards.length,
      peers: this.ledger.peerReports(),
      ...this.stats,
      liars: [...this.liars].sort(),
      elapsedMs: this.opts.now() - this.startedAt
    }
  }

  private needed (): number {
    return this.verify ? VERIFY_QUORUM : 1
  }

  /** About targetShardSeconds of this peer's work, shrinking near the tail (primecount). */
  private cutFor (peer: string): Shard | null {
    const rate = this.rates.rateOf(peer)
    let width = BigInt(Math.max(1, Math.round(rate * this.opts.targetShardSeconds)))
    const tailCap = this.cutter.remaining / BigInt(TAIL_SPLIT * Math.max(1, this.ledger.totalSlots()))
    if (tailCap < width) width = tailCap
    if (width > MAX_CUT_WIDTH) width = MAX_CUT_WIDTH
    const range = this.cutter.cut(width)
    if (range == null) return null
    this.opts.journal?.shardCut(range)
    return this.ledger.addShard({ ...range, attempts: 0 }, this.needed())
  }

  private start (shard: Shard, peer: string, backup: boolean, now: number): Assignment {
    const width = Number(shard.range.to - shard.range.from + 1n)
    const expectedMs = width / this.rates.rateOf(peer) * 1000
    const leaseMs = Math.max(this.opts.leaseFloorMs, this.opts.leaseFactor * expectedMs)
    const attempt = this.ledger.startAttempt(shard, peer, backup, now, leaseMs)
    this.opts.journal?.shardStarted(shard.range.index, peer, shard.attempts)
    return { attempt: attempt.id, peer, range: shard.range, backup }
  }

  /** Copies of the slowest running shards on idle slots of other peers (MapReduce, Spark). */
  private backups (now: number): Assignment[] {
    if (this.computeMs.length === 0) return []
    if (this.ledger.doneCount() < BACKUP_QUANTILE * this.cutter.cutCount) return []
    const sorted = [...this.computeMs].sort((a, b) => a - b)
    const threshold = Math.max(this.opts.minBackupMs, this.opts.backupMultiplier * sorted[Math.floor(sorted.length / 2)])
    const out: Assignment[] = []
    for (const attempt of this.ledger.stragglers(now, threshold)) {
      const peer = this.ledger.idlePeerFor(attempt.shard, now)
      if (peer == null) break
      attempt.shard.backedUp = true
      this.stats.backups++
      out.push(this.start(attempt.shard, peer.id, true, now))
    }
    return out
  }

  private accept (shard: Shard, result: ShardResult, peer: string, seconds: number): number[] {
    const cancel = this.ledger.attemptsOn(shard).map(a => { this.ledger.finishAttempt(a); return a.id })
    this.ledger.markDone(shard, result, peer, seconds)
    this.opts.journal?.shardDone({ ...shard.range, result, peer, attempts: shard.attempts, seconds })
    return cancel
  }

  private failed (attempt: Attempt, message: string, cause: FailureCause = 'shard'): SchedulerOutcome {
    this.ledger.backOff(attempt.peer, this.opts.now(), this.opts.peerBackoffMs, MAX_PEER_BACKOFF_MS, this.opts.random)
    this.shardFailed(attempt.shard, attempt.peer, message, cause)
    return { cancel: [] }
  }

  /** `counts`: which cap the failure counts towards ('none': an expired lease, which may still win). */
  private shardFailed (shard: Shard, peer: string, message: string, counts: FailureCause | 'none' = 'shard'): void {
    if (counts === 'shard') shard.failures++
    if (counts === 'peer') shard.peerLosses++
    shard.failedPeers.add(peer)
    this.stats.retries++
    if (shard.failures >= this.opts.maxFailures) {
      this.jobError ??= new ShardRetryLimitError(shard.range, shard.failures, message)
      return
    }
    if (shard.peerLosses >= this.opts.maxPeerLosses) {
      this.jobError ??= new ShardRetryLimitError(shard.range, shard.peerLosses, message, true)
      return
    }
    this.ledger.refresh(shard)
    // Back in the queue for another peer; an expired lease counts as taken back too.
    if (this.ledger.isPending(shard)) {
      this.stats.reassigned++
      this.opts.journal?.shardRequeued(shard.range.index)
    }
  }
}
