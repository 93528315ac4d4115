import { randomBytes } from 'node:crypto'
import { chooseMethod, type CountMethod } from './count-method.ts'
import { EventEmitter } from 'node:events'
import { pushable } from 'it-pushable'
import { InvalidArgumentsError } from '../../protocols/rpc/index.ts'
import { JobJournal } from '../compute/scheduler/job-journal.ts'
import { JobRunner, type PeerView } from '../compute/scheduler/job-runner.ts'
import { ShardScheduler } from '../compute/scheduler/shard-scheduler.ts'
import type { JobProgress, JobReport, JournalShard } from '../compute/scheduler/types.ts'
import type { WorkerPool } from '../compute/worker-pool.ts'
import { MAX_WORKERS } from '../config.ts'
import type { ControlServer } from '../control/control-server.ts'
import { defaultLogger, type Log, type MeshLogger } from '../logging/logger.ts'
import type { MeshMetrics } from '../metrics/metrics.ts'
import type { MeshRpc } from '../rpc/mesh-rpc.ts'
import type { MeshDatabase } from '../store/database.ts'
import { systemClock, type Clock } from '../time/clock.ts'
import { jobView, progressView, reportView } from './job-views.ts'
import { piLocalExecutor, piRemoteExecutor } from './pi-executors.ts'
import { piJobParts } from './pi-job-parts.ts'
import { piResultImplausibility, PRIMES_PI_KIND, PRIMES_PI_SPLIT_KIND, sumOfResults } from './pi-job.ts'
import { localExecutor, remoteExecutor } from './shard-executors.ts'
import { parseU64 } from './shard-wire.ts'

export const PRIMES_COUNT_KIND = 'primes.count'
const PRIMES_COUNT_SERVICE = 'primes.count'
const PRIMES_PI_SERVICE = 'primes.hard-leaves'
const PRIMES_PI_SPLIT_SERVICE = 'primes.leaves'

/** What the job service needs to know of a member to give it shards. */
export interface ComputeMember {
  id: string
  state: 'alive' | 'suspect' | 'dead' | 'left'
  /** The rpc methods it serves (`primes.count` among them for a compute peer). */
  services: readonly string[]
  workers: { total: number }
}

export interface JobServiceComponents {
  /** Holds the journal: jobs and shards, so a restarted coordinator resumes. */
  db: MeshDatabase
  control: Pick<ControlServer, 'register'>
  /** The other members as this node sees them now. */
  members: () => Iterable<ComputeMember>
  /** Shards on other peers go out as `primes.count` streams. */
  rpc: Pick<MeshRpc, 'stream'>
  /** This node's own shards. */
  pool: Pick<WorkerPool, 'run' | 'size'>
  metrics: Pick<MeshMetrics, 'counter'>
  selfId: string
  clock?: Clock
  logger?: MeshLogger
}

/** A control request for a job reached a stopped job service. */
export class JobServiceStoppedError extends Error {
  override name = 'JobServiceStoppedError'
}

interface LiveJob {
  id: string
  events: EventEmitter<{ progress: [JobProgress], done: [JobReport], failed: [Error] }>
  progress?: JobProgress
  controller: AbortController
  finished: Promise<void>
  /** 'combinatorial' for a pi job; its report says so. */
  method?: string
}

/**
 * Distributed prime counts: the coordinator side. `jobs.start` journals a job and runs it
 * over every live peer serving primes.count (this node included), streaming progress to the
 * CLI; `jobs.list` shows the journal; `jobs.watch` follows a running job; jobs left
 * running by a crashed (or stopped) coordinator resume on start.
 */
export class JobService {
  private readonly c: JobServiceComponents
  private readonly clock: Clock
  private readonly log: Log
  private readonly journal: JobJournal
  private readonly live = new Map<string, LiveJob>()
  private started = false

  constructor (components: JobServiceComponents) {
    this.c = components
    this.clock = components.clock ?? systemClock
    this.log = (components.logger ?? defaultLogger).forComponent('jobs')
    this.journal = new JobJournal(components.db)
  }

  start (): void {
    if (this.started) return
    this.started = true
    const { control } = this.c
    // Registering again after a stop replaces the same handlers; while stopped they refuse new jobs.
    control.register('jobs.start', (params, signal) => this.startFromControl(params, signal))
    control.register('jobs.list', async () => ({ jobs: this.list() }))
    control.register('jobs.watch', (params, signal) => this.watch(String(params.id ?? ''), signal))
    for (const job of this.journal.listJobs('running')) {
      this.log('resuming job %s from its journal', job.id)
      try {
        this.launch(job.id, job.from, job.to, job.verify, this.journal.loadShards(job.id), job.kind)
      } catch (err: any) {
        // A journal this node cannot resume must not stop the node from starting.
        this.journal.finishJob(job.id, 'failed', this.clock.now(), { error: `cannot resume: ${String(err?.message ?? err)}` })
      }
    }
  }

  /** The journal's jobs as `mesh jobs --json` shows them, live progress for running ones. */
  list (): Array<Record<string, unknown>> {
    return this.journal.listJobs().map(j => jobView(j, this.live.get(j.id)?.progress))
  }

  /** The running jobs' progress by id (each peer's accepted shards included), as `jobs.watch` streams it; null before the first. */
  running (): Map<string, Record<string, unknown> | null> {
    const out = new Map<string, Record<string, unknown> | null>()
    for (const [id, job] of this.live) out.set(id, job.progress != null ? progressView(job.progress) : null)
    return out
  }

  /** Stops running jobs without finishing them: they stay "running" and resume on the next start. */
  async stop (): Promise<void> {
    this.started = false
    const jobs = [...this.live.values()]
    for (const job of jobs) job.controller.abort()
    await Promise.all(jobs.map(async j => await j.finished))
  }

  private startFromControl (params: Record<string, unknown>, signal: AbortSignal): AsyncIterable<unknown> {
    const method = params.method
    if (method !== undefined && method !== 'sieve' && method !== 'combinatorial') throw new InvalidArgumentsError('method must be sieve or combinatorial')
    // No method given: the cheaper one for the interval, as the CLI and the gateway get.
    return this.count(parseU64(params.from, 'from'), parseU64(params.to, 'to'), params.verify === true, signal, method)
  }

  /**
   * Journals a new count of the primes in [from, to] and runs it across the mesh, by `method`
   * or else the cheaper one for the interval (a wide count from the gateway, the HTTP API or
   * a script is combinatorial, as the CLI's is): yields
   * `started`, then `progress` events, then `done` with the report. Aborting `signal` means
   * whoever asked no longer wants the answer: the job is cancelled.
   */
  count (from: bigint, to: bigint, verify: boolean, signal: AbortSignal, method: CountMethod = chooseMethod(from, to)): AsyncIterable<unknown> {
    if (!this.started) throw new JobServiceStoppedError('the job service is stopped')
    if (from > to) throw new InvalidArgumentsError('from must not be greater than to')
    const created = this.clock.now()
    const id = `j${created.toString(36)}${randomBytes(3).toString('hex')}`
    const kind = method === 'combinatorial' ? PRIMES_PI_SPLIT_KIND : PRIMES_COUNT_KIND
    this.journal.createJob({ id, kind, from, to, verify, created })
    const job = this.launch(id, from, to, verify, [], kind)
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

  /** The job's events for one control client, from `first` until the job ends or the client goes. */
  private follow (job: LiveJob, signal: AbortSignal, cleanup: () => void, first: unknown): AsyncIterable<unknown> {
    const onProgress = (p: JobProgress): void => { events.push({ type: 'progress', ...progressView(p) }) }
    const onDone = (r: JobReport): void => { events.push({ type: 'done', id: job.id, report: reportView(r, job.method) }); events.end() }
    const onFailed = (err: Error): void => { events.end(err) }
    const onAbort = (): void => { events.end() }
    const events = pushable<unknown>({
      objectMode: true,
      onEnd: () => {
        job.events.off('progress', onProgress)
        job.events.off('done', onDone)
        job.events.off('failed', onFailed)
        signal.removeEventListener('abort', onAbort)
        cleanup()
      }
    })
    events.push(first)
    job.events.on('progress', onProgress)
    job.events.on('done', onDone)
    job.events.on('failed', onFailed)
    signal.addEventListener('abort', onAbort, { once: true })
    if (signal.aborted) events.end()
    return events
  }

  private launch (id: string, from: bigint, to: bigint, verify: boolean, restored: JournalShard[], kind: string): LiveJob {
    const { clock } = this
    const controller = new AbortController()
    const events = new EventEmitter<{ progress: [JobProgress], done: [JobReport], failed: [Error] }>()
    const journal = this.journal.journalFor(id)
    const job: LiveJob = { id, events, controller, finished: Promise.resolve() }
    // A combinatorial count: the scheduler cuts the hard leaves (see pi-job.ts), this node's
    // pool computes the rest meanwhile, and the report adds both up.
    const split = kind === PRIMES_PI_SPLIT_KIND
    const pi = kind === PRIMES_PI_KIND || split ? piJobParts(this.c.pool, from, to, controller.signal, split) : null
    const scheduler = pi != null
      ? new ShardScheduler({ from: 0n, to: BigInt(pi.plan.blocks - 1), verify, now: clock.now, journal, restored, check: piResultImplausibility, initialRatePerSlot: pi.blocksPerSecond, minShardWidth: 1n })
      : new ShardScheduler({ from, to, verify, now: clock.now, journal, restored })
    const local = pi != null ? piLocalExecutor(this.c.pool, pi.plan, clock) : localExecutor(this.c.pool, clock)
    const runner = new JobRunner({
      scheduler,
      // The easy terms hold some of this node's workers: a hard-leaf shard given to this node
      // meanwhile would wait behind them, and the first shards hold most of the leaves.
      // Only peers that serve the shards' kind: an older peer would sum the hard leaves alone.
      peers: () => pi != null ? this.computePeers(split ? PRIMES_PI_SPLIT_SERVICE : PRIMES_PI_SERVICE, pi.busyWorkers()) : this.computePeers(PRIMES_COUNT_SERVICE),
      executorFor: peer => peer === this.c.selfId ? local : pi != null ? piRemoteExecutor(this.c.rpc, peer, pi.plan) : remoteExecutor(this.c.rpc, peer),
      clock,
      logger: this.c.logger
    }, {
      onProgress: p => { job.progress = p; events.emit('progress', p) }
    })
    const jobsMetric = this.c.metrics.counter('mesh_jobs_total', 'distributed jobs by outcome', ['outcome'])
    // The job leaves `live` before its followers hear the end, so a `jobs.watch` arriving
    // after that reads the finished job from the journal instead of waiting for events.
    const run = async (): Promise<JobReport> => {
      if (pi == null) return await runner.run(controller.signal)
      try {
        const report = await runner.run(controller.signal)
        return { ...report, from, to, count: await pi.total(sumOfResults(report.count)) }
      } catch (err) {
        // The easy terms still running on this node's pool are of no use any more.
        controller.abort()
        throw err
      }
    }
    const method = pi != null ? 'combinatorial' : undefined
    job.finished = run().then(report => {
      this.live.delete(id)
      this.journal.finishJob(id, 'done', clock.now(), { result: JSON.stringify(reportView(report, method)) })
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
      this.live.delete(id)
      // Stopped with the node: stays "running" in the journal and resumes on the next start.
      if (err.name === 'JobCancelledError' && !this.started) { events.emit('failed', err); return }
      const outcome = err.name === 'JobCancelledError' ? 'cancelled' : 'failed'
      this.journal.finishJob(id, outcome, clock.now(), { error: String(err.message) })
      jobsMetric.inc({ outcome })
      this.log('job %s ended: %s', id, err.message)
      events.emit('failed', err)
    })
    job.method = method
    this.live.set(id, job)
    return job
  }

  /** This node and every live member serving `service`, with their worker slots. */
  private computePeers (service: string, busyHere = 0): PeerView[] {
    const self: PeerView = { id: this.c.selfId, slots: this.c.pool.size, state: 'alive' }
    const peers: PeerView[] = [self]
    for (const m of this.c.members()) {
      if (m.state !== 'alive' && m.state !== 'suspect') continue
      if (!m.services.includes(service) || m.workers.total < 1) continue
      // No node runs more workers than --workers allows; a peer claiming more gets no more shards at once.
      peers.push({ id: m.id, slots: Math.min(m.workers.total, MAX_WORKERS), state: m.state })
    }
    // Workers busy with other parts of the job take no shards; with every one busy and other
    // peers to do the shards, this node takes none for now (paused, as a suspect peer is).
    if (busyHere > 0) {
      if (busyHere < self.slots) self.slots -= busyHere
      else if (peers.length > 1) self.state = 'suspect'
    }
    return peers
  }
}
