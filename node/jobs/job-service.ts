import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import createDebug from 'debug'
import { InvalidArgumentsError } from '../../protocols/rpc/index.ts'
import { JobJournal } from '../compute/scheduler/job-journal.ts'
import { JobRunner, type PeerView } from '../compute/scheduler/job-runner.ts'
import { ShardScheduler } from '../compute/scheduler/shard-scheduler.ts'
import type { JobProgress, JobReport, JournalShard } from '../compute/scheduler/types.ts'
import type { WorkerPool } from '../compute/worker-pool.ts'
import type { ControlServer } from '../control/control-server.ts'
import type { MembershipService } from '../membership/membership-service.ts'
import type { MeshMetrics } from '../metrics/metrics.ts'
import type { MeshRpc } from '../rpc/mesh-rpc.ts'
import type { MeshDatabase } from '../store/database.ts'
import { jobView, progressView, reportView } from './job-views.ts'
import { localExecutor, remoteExecutor } from './shard-executors.ts'
import { parseU64 } from './shard-wire.ts'

export const PRIMES_COUNT_KIND = 'primes.count'
const PRIMES_COUNT_SERVICE = 'primes.count'

export interface JobServiceComponents {
  db: MeshDatabase
  control: ControlServer
  membership: MembershipService
  rpc: MeshRpc
  pool: WorkerPool
  metrics: MeshMetrics
  selfId: string
}

interface LiveJob {
  id: string
  events: EventEmitter<{ progress: [JobProgress], done: [JobReport], failed: [Error] }>
  progress?: JobProgress
  controller: AbortController
  finished: Promise<void>
}

/**
 * Distributed prime counts: the coordinator side. `jobs.start` journals a job and runs it
 * over every live peer serving primes.count (this node included), streaming progress to the
 * CLI; `jobs.list` shows the journal; `jobs.watch` follows a running job; jobs left
 * running by a crashed coordinator resume on start.
 */
export class JobService {
  private readonly c: JobServiceComponents
  private readonly journal: JobJournal
  private readonly live = new Map<string, LiveJob>()
  private readonly log = createDebug('mesh:jobs')
  private started = false

  constructor (components: JobServiceComponents) {
    this.c = components
    this.journal = new JobJournal(components.db)
  }

  start (): void {
    if (this.started) return
    this.started = true
    const { control } = this.c
    control.register('jobs.start', (params, signal) => this.startFromControl(params, signal))
    control.register('jobs.list', async () => ({ jobs: this.journal.listJobs().map(j => jobView(j, this.live.get(j.id)?.progress)) }))
    control.register('jobs.watch', (params, signal) => this.watch(String(params.id ?? ''), signal))
    for (const job of this.journal.listJobs('running')) {
      this.log('resuming job %s from its journal', job.id)
      try {
        this.launch(job.id, job.from, job.to, job.verify, this.journal.loadShards(job.id))
      } catch (err: any) {
        // A journal this node cannot resume must not stop the node from starting.
        this.journal.finishJob(job.id, 'failed', Date.now(), { error: `cannot resume: ${String(err?.message ?? err)}` })
      }
    }
  }

  /** Stops running jobs without finishing them: they stay "running" and resume next start. */
  async stop (): Promise<void> {
    this.started = false
    const jobs = [...this.live.values()]
    for (const job of jobs) job.controller.abort()
    await Promise.all(jobs.map(async j => await j.finished))
  }

  private startFromControl (params: Record<string, unknown>, signal: AbortSignal): AsyncIterable<unknown> {
    return this.count(parseU64(params.from, 'from'), parseU64(params.to, 'to'), params.verify === true, signal)
  }

  /**
   * Journals a new count of the primes in [from, to] and runs it across the mesh: yields
   * `started`, then `progress` events, then `done` with the report. Aborting `signal` means
   * whoever asked no longer wants the answer: the job is cancelled.
   */
  count (from: bigint, to: bigint, verify: boolean, signal: AbortSignal): AsyncIterable<unknown> {
    if (from > to) throw new InvalidArgumentsError('from must not be greater than to')
    const id = `j${Date.now().toString(36)}${randomBytes(3).toString('hex')}`
    this.journal.createJob({ id, kind: PRIMES_COUNT_KIND, from, to, verify, created: Date.now() })
    const job = this.launch(id, from, to, verify, [])
    // The CLI that asked for the job went away (Ctrl-C): the user no longer wants it.
    const onGone = (): void => { job.controller.abort() }
    signal.addEventListener('abort', onGone, { once: true })
    return this.follow(job, signal, () => { signal.removeEventListener('abort', onGone) }, { type: 'started', id })
  }

  private watch (id: string, signal: AbortSignal): AsyncIterable<unknown> {
    const job = this.live.get(id)
    if (job == null) {
      const row = this.journal.getJob(id)
      if (row == null) throw new InvalidArgumentsError(`no job ${id}`)
      return (async function * () { yield { type: 'finished', job: jobView(row) } })()
    }
    return this.follow(job, signal, () => {}, { type: 'watching', id })
  }

  private async * follow (job: LiveJob, signal: AbortSignal, cleanup: () => void, first: unknown): AsyncGenerator<unknown> {
    const queue: unknown[] = [first]
    let wake: (() => void) | undefined
    let ended = false
    const onProgress = (p: JobProgress): void => { queue.push({ type: 'progress', ...progressView(p) }); wake?.() }
    const onDone = (r: JobReport): void => { queue.push({ type: 'done', id: job.id, report: reportView(r) }); ended = true; wake?.() }
    let failure: Error | null = null
    const onFailed = (err: Error): void => { failure = err; ended = true; wake?.() }
    job.events.on('progress', onProgress)
    job.events.on('done', onDone)
    job.events.on('failed', onFailed)
    const onAbort = (): void => { wake?.() }
    signal.addEventListener('abort', onAbort)
    try {
      while (!signal.aborted) {
        if (queue.length > 0) { yield queue.shift(); continue }
        if (ended) break
        await new Promise<void>(resolve => { wake = resolve })
        wake = undefined
      }
      if (failure != null) throw failure
    } finally {
      job.events.off('progress', onProgress)
      job.events.off('done', onDone)
      job.events.off('failed', onFailed)
      signal.removeEventListener('abort', onAbort)
      cleanup()
    }
  }

  private launch (id: string, from: bigint, to: bigint, verify: boolean, restored: JournalShard[]): LiveJob {
    const controller = new AbortController()
    const events = new EventEmitter<{ progress: [JobProgress], done: [JobReport], failed: [Error] }>()
    const scheduler = new ShardScheduler({ from, to, verify, now: Date.now, journal: this.journal.journalFor(id), restored })
    const local = localExecutor(this.c.pool)
    const job: LiveJob = { id, events, controller, finished: Promise.resolve() }
    const runner = new JobRunner({
      scheduler,
      peers: () => this.computePeers(),
      executorFor: peer => peer === this.c.selfId ? local : remoteExecutor(this.c.rpc, peer)
    }, {
      onProgress: p => { job.progress = p; events.emit('progress', p) }
    })
    const jobsMetric = this.c.metrics.counter('mesh_jobs_total', 'distributed jobs by outcome', ['outcome'])
    job.finished = runner.run(controller.signal).then(report => {
      this.journal.finishJob(id, 'done', Date.now(), { result: JSON.stringify(reportView(report)) })
      jobsMetric.inc({ outcome: 'done' })
      const shards = this.c.metrics.counter('mesh_job_shards_total', 'shards of finished jobs: accepted, and attempts retried, reassigned, backed up, dropped as duplicates', ['event'])
      shards.inc({ event: 'accepted' }, report.shards)
      shards.inc({ event: 'retried' }, report.retries)
      shards.inc({ event: 'reassigned' }, report.reassigned)
      shards.inc({ event: 'backup' }, report.backups)
      shards.inc({ event: 'duplicate_dropped' }, report.duplicatesDropped)
      this.c.metrics.counter('mesh_job_liars_total', 'peers caught disagreeing with the majority in verify mode').inc(report.liars.length)
      this.log('job %s done: %s primes', id, report.count)
      events.emit('done', report)
    }, (err: Error) => {
      // Stopped with the node: stays "running" in the journal and resumes on the next start.
      if (err.name === 'JobCancelledError' && !this.started) { events.emit('failed', err); return }
      this.journal.finishJob(id, err.name === 'JobCancelledError' ? 'cancelled' : 'failed', Date.now(), { error: `${err.name}: ${err.message}` })
      jobsMetric.inc({ outcome: err.name === 'JobCancelledError' ? 'cancelled' : 'failed' })
      this.log('job %s ended: %s', id, err.message)
      events.emit('failed', err)
    }).finally(() => { this.live.delete(id) })
    this.live.set(id, job)
    return job
  }

  /** This node and every live member serving primes.count, with their worker slots. */
  private computePeers (): PeerView[] {
    const peers: PeerView[] = [{ id: this.c.selfId, slots: this.c.pool.size, state: 'alive' }]
    for (const m of this.c.membership.table.list()) {
      if (m.state !== 'alive' && m.state !== 'suspect') continue
      if (!m.services.includes(PRIMES_COUNT_SERVICE) || m.workers.total < 1) continue
      peers.push({ id: m.id, slots: Math.min(m.workers.total, 256), state: m.state })
    }
    return peers
  }
}
