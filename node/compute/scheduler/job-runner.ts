import { defaultLogger, type Log, type MeshLogger } from '../../logging/logger.ts'
import { systemClock, type Clock, type Timer } from '../../time/clock.ts'
import { AttemptCancelledError, JobCancelledError, NoEligiblePeerError } from './errors.ts'
import { failureCause } from './failure-cause.ts'
import type { SchedulerOutcome, ShardScheduler } from './shard-scheduler.ts'
import type { Assignment, JobProgress, JobReport, ShardRange, ShardResult } from './types.ts'

/** Runs one shard on one peer: the local worker pool or an rpc call to a remote node. */
export interface ShardExecutor {
  /** `onProgress(done)` renews the lease; `done` null means "alive, still queued". */
  run: (range: ShardRange, signal: AbortSignal, onProgress: (done: bigint | null) => void) => Promise<{ result: ShardResult, seconds: number }>
}

/** A compute peer as the runner sees it now; a peer no longer listed is gone. */
export interface PeerView {
  id: string
  slots: number
  /** Suspect peers keep their shards but get no new ones. */
  state: 'alive' | 'suspect'
}

export interface JobRunnerComponents {
  scheduler: ShardScheduler
  peers: () => PeerView[]
  executorFor: (peer: string) => ShardExecutor
  /** Ticks and timestamps; give the scheduler the same clock's `now`. */
  clock?: Clock
  logger?: MeshLogger
}

export interface JobRunnerInit {
  /** Lease and backup checks, and peer-list refresh (Spark checks speculation every 100 ms). */
  tickMs?: number
  progressEveryMs?: number
  /** Nothing running and nothing assignable for this long: fail rather than wait forever. */
  stallTimeoutMs?: number
  onProgress?: (progress: JobProgress) => void
}

export const DEFAULT_TICK_MS = 100
export const DEFAULT_PROGRESS_EVERY_MS = 250
export const DEFAULT_STALL_TIMEOUT_MS = 30_000

/**
 * Drives a ShardScheduler with real calls: starts what it assigns, feeds back results,
 * failures and progress, ticks its leases, tracks the peer list and aborts the calls it
 * takes back. All CPU work happens in executors, so the event loop never blocks here.
 */
export class JobRunner {
  private readonly scheduler: ShardScheduler
  private readonly peers: () => PeerView[]
  private readonly executorFor: (peer: string) => ShardExecutor
  private readonly clock: Clock
  private readonly log: Log
  private readonly tickMs: number
  private readonly progressEveryMs: number
  private readonly stallTimeoutMs: number
  private readonly onProgress?: (progress: JobProgress) => void
  private readonly calls = new Map<number, AbortController>()
  private timer?: Timer
  private lastProgressAt = -Infinity
  private lastTickAt: number | null = null
  private stalledSince: number | null = null
  private settle?: { resolve: (r: JobReport) => void, reject: (e: Error) => void }

  constructor (components: JobRunnerComponents, init: JobRunnerInit = {}) {
    this.scheduler = components.scheduler
    this.peers = components.peers
    this.executorFor = components.executorFor
    this.clock = components.clock ?? systemClock
    this.log = (components.logger ?? defaultLogger).forComponent('scheduler')
    this.tickMs = init.tickMs ?? DEFAULT_TICK_MS
    this.progressEveryMs = init.progressEveryMs ?? DEFAULT_PROGRESS_EVERY_MS
    this.stallTimeoutMs = init.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS
    this.onProgress = init.onProgress
  }

  async run (signal?: AbortSignal): Promise<JobReport> {
    return await new Promise<JobReport>((resolve, reject) => {
      const onAbort = (): void => { this.finish(new JobCancelledError('the job was cancelled')) }
      this.settle = {
        resolve: r => { signal?.removeEventListener('abort', onAbort); resolve(r) },
        reject: e => { signal?.removeEventListener('abort', onAbort); reject(e) }
      }
      if (signal?.aborted === true) { onAbort(); return }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.tick()
    })
  }

  private tick (): void {
    if (this.settle == null) return
    const now = this.clock.now()
    // Ticks far apart: this process was paused, not the peers; their leases wait too.
    if (this.lastTickAt != null && now - this.lastTickAt > 2 * this.tickMs) this.scheduler.extendLeases(now - this.lastTickAt - this.tickMs)
    this.lastTickAt = now
    this.syncPeers()
    this.apply(this.scheduler.tick())
    this.pump()
    this.checkStall()
    if (this.settle == null) return
    this.emitProgress(false)
    this.timer = this.clock.setTimeout(() => { this.tick() }, this.tickMs)
  }

  private syncPeers (): void {
    const listed = new Set<string>()
    for (const peer of this.peers()) {
      listed.add(peer.id)
      this.scheduler.upsertPeer({ id: peer.id, slots: peer.slots }, peer.state === 'suspect')
    }
    for (const id of this.scheduler.peerIds()) {
      if (listed.has(id)) continue
      this.log('peer %s is gone: taking its shards back', id)
      this.apply(this.scheduler.removePeer(id))
    }
  }

  private pump (): void {
    if (this.settle == null) return
    for (const assignment of this.scheduler.nextAssignments()) this.launch(assignment)
    this.checkEnd()
  }

  private launch (assignment: Assignment): void {
    const controller = new AbortController()
    this.calls.set(assignment.attempt, controller)
    const { signal } = controller
    this.log('shard %d [%s, %s] -> %s%s', assignment.range.index, assignment.range.from, assignment.range.to, assignment.peer, assignment.backup ? ' (backup)' : '')
    const onProgress = (done: bigint | null): void => { if (!signal.aborted) this.scheduler.progress(assignment.attempt, done) }
    Promise.resolve()
      .then(async () => await this.executorFor(assignment.peer).run(assignment.range, signal, onProgress))
      .then(({ result, seconds }) => {
        if (signal.aborted) return
        this.calls.delete(assignment.attempt)
        this.apply(this.scheduler.result(assignment.attempt, result, seconds))
        this.pump()
      }, (err: any) => {
        if (signal.aborted) return
        this.calls.delete(assignment.attempt)
        this.log('shard %d on %s failed: %s', assignment.range.index, assignment.peer, err?.message)
        this.apply(this.scheduler.fail(assignment.attempt, `${String(err?.name ?? 'Error')}: ${String(err?.message ?? err)}`, failureCause(err)))
        this.pump()
      })
  }

  private apply (outcome: SchedulerOutcome): void {
    for (const id of outcome.cancel) {
      this.calls.get(id)?.abort(new AttemptCancelledError(`attempt ${id} taken back`))
      this.calls.delete(id)
    }
  }

  private checkStall (): void {
    if (this.settle == null) return
    if (this.calls.size > 0) { this.stalledSince = null; return }
    this.stalledSince ??= this.clock.now()
    if (this.clock.now() - this.stalledSince > this.stallTimeoutMs) {
      this.finish(new NoEligiblePeerError(`no peer could take the remaining shards for ${Math.round(this.stallTimeoutMs / 1000)} s`))
    }
  }

  private checkEnd (): void {
    const error = this.scheduler.error
    if (error != null) this.finish(error)
    else if (this.scheduler.done) this.finish(null)
  }

  private emitProgress (force: boolean): void {
    if (this.onProgress == null) return
    const now = this.clock.now()
    if (!force && now - this.lastProgressAt < this.progressEveryMs) return
    this.lastProgressAt = now
    this.onProgress(this.scheduler.progressReport())
  }

  private finish (error: Error | null): void {
    const settle = this.settle
    if (settle == null) return
    this.settle = undefined
    this.timer?.clear()
    for (const controller of this.calls.values()) controller.abort(new AttemptCancelledError('the job ended'))
    this.calls.clear()
    if (error != null) { settle.reject(error); return }
    this.emitProgress(true)
    settle.resolve(this.scheduler.report())
  }
}
