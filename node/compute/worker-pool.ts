import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { scriptEntry } from '../script-entry.ts'
import { systemClock, type Clock, type Timer } from '../time/clock.ts'
import type { WorkerReply, WorkerRequest } from './worker-protocol.ts'

/** One worker per core: the tasks are CPU-bound, more threads would only time-slice. */
export const DEFAULT_POOL_SIZE = availableParallelism()
const WORKER_ENTRY = scriptEntry('worker-entry', new URL('./worker-entry.ts', import.meta.url))
/**
 * A thread with nothing to do for this long is let go. A thread holds its own V8 heap and
 * modules (about 15-20 MB); starting one again costs tens of milliseconds, which 30 s of
 * idleness amortizes, while a job's shards, milliseconds apart, keep their threads.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000
/**
 * A worker's young generation, capped: V8 lets it grow to 16 MB or more, while a sieve task
 * makes little garbage (its working set lives in WebAssembly memory). Measured on a node
 * counting [1e12, 1e12+1e10]: the busy worker's extra RSS went from 26-27 MB to 23-26 MB.
 */
const WORKER_RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 2 }
/** The pool's threads' name, which the OS shows too (`ps -T`, /proc/PID/task/TID/comm). */
export const WORKER_THREAD_NAME = 'mesh-worker'
/**
 * Extra threads for urgent tasks when every slot is busy. One: a short task a user waits on
 * (the easy terms of a small pi(x)) then time-slices a core with a long one for a moment,
 * instead of waiting minutes behind the easy terms of a pi(1e18) that hold every slot.
 */
export const DEFAULT_URGENT_SLOTS = 1

export interface WorkerPoolInit {
  /** Number of worker threads (default: one per core). */
  size?: number
  /** Ends a thread after this long without a task (default DEFAULT_IDLE_TIMEOUT_MS). */
  idleTimeoutMs?: number
  /** Times the idle threads. */
  clock?: Clock
  /** Extra threads for urgent tasks when every slot is busy (default DEFAULT_URGENT_SLOTS). */
  urgentSlots?: number
}

export interface RunOptions {
  /** Aborting drops a queued task, or stops the thread running it (a fresh one replaces it). */
  signal?: AbortSignal
  /** Progress values the task reports while it runs. */
  onProgress?: (progress: unknown) => void
  /**
   * A short task someone waits on: it goes before every queued task that is not urgent and,
   * when every slot is busy, runs on an extra thread. Only for tasks known to be short: the
   * extra thread shares a core with a busy one while it runs.
   */
  urgent?: boolean
}

export interface PoolCapacity {
  total: number
  free: number
}

/** A task failed inside a worker; `name` keeps the original error's name. */
export class WorkerTaskError extends Error {
  override name = 'WorkerTaskError'
}

/** The worker thread running a task died (crash, out of memory, terminated). */
export class WorkerCrashedError extends Error {
  override name = 'WorkerCrashedError'
}

export class PoolClosedError extends Error {
  override name = 'PoolClosedError'
}

interface Job {
  id: number
  task: string
  input: unknown
  options: RunOptions
  resolve: (value: any) => void
  reject: (err: Error) => void
  onAbort?: () => void
}

/** One unit of capacity; its thread exists only while it is busy or recently was. */
interface Slot {
  /** An extra slot for urgent tasks, not counted in the advertised capacity. */
  urgentOnly: boolean
  worker: Worker | null
  job: Job | null
  idleTimer: Timer | null
}

function abortError (signal: AbortSignal): Error {
  const reason = signal.reason
  if (reason instanceof Error) return reason
  const err = new Error('the task was aborted')
  err.name = 'AbortError'
  return err
}

/**
 * A pool of worker_threads running named tasks (see worker-tasks.ts). Tasks queue in arrival
 * order (urgent ones first) and go to the first free slot; an urgent task finding every slot
 * busy takes an extra one. A slot starts its thread when its first task comes and
 * ends it after `idleTimeoutMs` without one, so an idle node holds no threads; the capacity
 * (`size`, `capacity()`) counts slots, so what the node advertises never depends on whether
 * threads happen to be running. Idle threads are unref'd, so an open pool never keeps the
 * process alive by itself; close() ends them.
 */
export class WorkerPool {
  readonly size: number
  private readonly idleTimeoutMs: number
  private readonly clock: Clock
  private readonly slots: Slot[] = []
  private readonly queue: Job[] = []
  private nextId = 1
  private closed = false

  constructor (init: WorkerPoolInit = {}) {
    const size = init.size ?? DEFAULT_POOL_SIZE
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`size must be a positive integer, got ${size}`)
    const idleTimeoutMs = init.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS
    if (!Number.isFinite(idleTimeoutMs) || idleTimeoutMs < 0) throw new RangeError(`idleTimeoutMs must be a number ≥ 0, got ${idleTimeoutMs}`)
    const urgentSlots = init.urgentSlots ?? DEFAULT_URGENT_SLOTS
    if (!Number.isInteger(urgentSlots) || urgentSlots < 0) throw new RangeError(`urgentSlots must be a whole number ≥ 0, got ${urgentSlots}`)
    this.size = size
    this.idleTimeoutMs = idleTimeoutMs
    this.clock = init.clock ?? systemClock
    for (let i = 0; i < size + urgentSlots; i++) this.slots.push({ urgentOnly: i >= size, worker: null, job: null, idleTimer: null })
  }

  /** Threads running now, busy or idle (at most `size` and the urgent slots; 0 until the first task). */
  get threads (): number {
    let n = 0
    for (const slot of this.slots) if (slot.worker != null) n++
    return n
  }

  /** Worker slots in total and free now (advertised to peers as this node's capacity). */
  capacity (): PoolCapacity {
    let busy = 0
    for (const slot of this.slots) if (slot.job != null && !slot.urgentOnly) busy++
    return { total: this.size, free: this.size - busy }
  }

  /** Tasks waiting for a free thread. */
  get queued (): number {
    return this.queue.length
  }

  run<T = unknown> (task: string, input: unknown, options: RunOptions = {}): Promise<T> {
    if (this.closed) return Promise.reject(new PoolClosedError('the worker pool is closed'))
    const { signal } = options
    if (signal?.aborted === true) return Promise.reject(abortError(signal))
    return new Promise<T>((resolve, reject) => {
      const job: Job = { id: this.nextId++, task, input, options, resolve, reject }
      if (signal != null) {
        job.onAbort = () => { this.abort(job, abortError(signal)) }
        signal.addEventListener('abort', job.onAbort, { once: true })
      }
      if (options.urgent === true) {
        const firstNotUrgent = this.queue.findIndex(queued => queued.options.urgent !== true)
        this.queue.splice(firstNotUrgent < 0 ? this.queue.length : firstNotUrgent, 0, job)
      } else {
        this.queue.push(job)
      }
      this.dispatch()
    })
  }

  /** Rejects queued tasks, stops the threads (running tasks are rejected too). */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const job of this.queue.splice(0)) this.settle(job, new PoolClosedError('the worker pool is closed'))
    await Promise.all(this.slots.map(async (slot) => {
      const job = slot.job
      slot.job = null
      if (job != null) this.settle(job, new PoolClosedError('the worker pool is closed'))
      await this.letGo(slot)
    }))
  }

  /** Starts the slot's thread. */
  private spawn (slot: Slot): Worker {
    const worker = new Worker(WORKER_ENTRY, { name: WORKER_THREAD_NAME, resourceLimits: WORKER_RESOURCE_LIMITS })
    slot.worker = worker
    worker.unref()
    worker.on('message', (reply: WorkerReply) => { this.onReply(slot, reply) })
    worker.on('error', (err) => { this.onWorkerGone(slot, new WorkerCrashedError(`worker failed: ${err.message}`)) })
    worker.on('exit', (code) => { this.onWorkerGone(slot, new WorkerCrashedError(`worker exited with code ${code}`)) })
    return worker
  }

  /** Ends the slot's thread, if it has one; its listeners go first, so this is no crash. */
  private async letGo (slot: Slot): Promise<void> {
    slot.idleTimer?.clear()
    slot.idleTimer = null
    const worker = slot.worker
    slot.worker = null
    if (worker == null) return
    worker.removeAllListeners()
    await worker.terminate()
  }

  private dispatch (): void {
    // Urgent tasks are queued first, so the head of the queue decides for everything behind it.
    while (this.queue.length > 0) {
      const urgent = this.queue[0].options.urgent === true
      const slot = this.freeSlot(false) ?? (urgent ? this.freeSlot(true) : undefined)
      if (slot == null) return
      const job = this.queue.shift() as Job
      slot.job = job
      slot.idleTimer?.clear()
      slot.idleTimer = null
      const worker = slot.worker ?? this.spawn(slot)
      worker.ref()
      const request: WorkerRequest = { id: job.id, task: job.task, input: job.input }
      worker.postMessage(request)
    }
  }

  /** A free slot of the kind asked for, one whose thread is warm first (a new thread costs tens of milliseconds). */
  private freeSlot (urgentOnly: boolean): Slot | undefined {
    return this.slots.find(s => s.urgentOnly === urgentOnly && s.job == null && s.worker != null) ??
      this.slots.find(s => s.urgentOnly === urgentOnly && s.job == null)
  }

  /** A thread that just finished waits `idleTimeoutMs` for a task, then is let go. */
  private idle (slot: Slot): void {
    slot.worker?.unref()
    slot.idleTimer?.clear()
    slot.idleTimer = this.clock.setTimeout(() => {
      slot.idleTimer = null
      if (slot.job == null) void this.letGo(slot)
    }, this.idleTimeoutMs).unref()
  }

  private onReply (slot: Slot, reply: WorkerReply): void {
    const job = slot.job
    if (job == null || job.id !== reply.id) return
    if (reply.kind === 'progress') {
      job.options.onProgress?.(reply.value)
      return
    }
    slot.job = null
    this.idle(slot)
    if (reply.kind === 'done') {
      this.settle(job, null, reply.value)
    } else {
      const err = new WorkerTaskError(reply.message)
      if (reply.name !== '') err.name = reply.name
      this.settle(job, err)
    }
    this.dispatch()
  }

  /** The slot's thread died or was stopped: its task fails, the next task starts a new thread. */
  private onWorkerGone (slot: Slot, err: Error): void {
    if (this.closed) return
    void this.letGo(slot)
    const job = slot.job
    slot.job = null
    if (job != null) this.settle(job, err)
    this.dispatch()
  }

  private abort (job: Job, err: Error): void {
    const queuedAt = this.queue.indexOf(job)
    if (queuedAt >= 0) {
      this.queue.splice(queuedAt, 1)
      this.settle(job, err)
      return
    }
    const slot = this.slots.find((s) => s.job === job)
    if (slot == null) return
    // A running task is synchronous CPU work that cannot be interrupted: stop its thread.
    slot.job = null
    this.onWorkerGone(slot, err)
    this.settle(job, err)
  }

  private settle (job: Job, err: Error | null, value?: unknown): void {
    if (job.onAbort != null) job.options.signal?.removeEventListener('abort', job.onAbort)
    job.onAbort = undefined
    if (err != null) job.reject(err)
    else job.resolve(value)
  }
}
