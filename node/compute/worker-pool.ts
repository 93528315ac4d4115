import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { WorkerReply, WorkerRequest } from './worker-protocol.ts'

/** One worker per core: the tasks are CPU-bound, more threads would only time-slice. */
export const DEFAULT_POOL_SIZE = availableParallelism()
const WORKER_ENTRY = new URL('./worker-entry.ts', import.meta.url)

export interface WorkerPoolInit {
  /** Number of worker threads (default: one per core). */
  size?: number
}

export interface RunOptions {
  /** Aborting drops a queued task, or stops the thread running it (a fresh one replaces it). */
  signal?: AbortSignal
  /** Progress values the task reports while it runs. */
  onProgress?: (progress: unknown) => void
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

interface Slot {
  worker: Worker
  job: Job | null
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
 * order and go to the first free thread. Idle threads are unref'd, so an open pool never keeps
 * the process alive by itself; close() ends them.
 */
export class WorkerPool {
  readonly size: number
  private readonly slots: Slot[] = []
  private readonly queue: Job[] = []
  private nextId = 1
  private closed = false

  constructor (init: WorkerPoolInit = {}) {
    const size = init.size ?? DEFAULT_POOL_SIZE
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`size must be a positive integer, got ${size}`)
    this.size = size
    for (let i = 0; i < size; i++) this.slots.push(this.spawn())
  }

  /** Worker slots in total and free now (advertised to peers as this node's capacity). */
  capacity (): PoolCapacity {
    let busy = 0
    for (const slot of this.slots) if (slot.job != null) busy++
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
      this.queue.push(job)
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
      await slot.worker.terminate()
    }))
  }

  private spawn (): Slot {
    const worker = new Worker(WORKER_ENTRY)
    const slot: Slot = { worker, job: null }
    worker.unref()
    worker.on('message', (reply: WorkerReply) => { this.onReply(slot, reply) })
    worker.on('error', (err) => { this.onWorkerGone(slot, new WorkerCrashedError(`worker failed: ${err.message}`)) })
    worker.on('exit', (code) => { this.onWorkerGone(slot, new WorkerCrashedError(`worker exited with code ${code}`)) })
    return slot
  }

  private dispatch (): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return
      if (slot.job != null) continue
      const job = this.queue.shift() as Job
      slot.job = job
      slot.worker.ref()
      const request: WorkerRequest = { id: job.id, task: job.task, input: job.input }
      slot.worker.postMessage(request)
    }
  }

  private onReply (slot: Slot, reply: WorkerReply): void {
    const job = slot.job
    if (job == null || job.id !== reply.id) return
    if (reply.kind === 'progress') {
      job.options.onProgress?.(reply.value)
      return
    }
    slot.job = null
    slot.worker.unref()
    if (reply.kind === 'done') {
      this.settle(job, null, reply.value)
    } else {
      const err = new WorkerTaskError(reply.message)
      if (reply.name !== '') err.name = reply.name
      this.settle(job, err)
    }
    this.dispatch()
  }

  private onWorkerGone (slot: Slot, err: Error): void {
    if (this.closed) return
    const index = this.slots.indexOf(slot)
    if (index < 0) return
    slot.worker.removeAllListeners()
    void slot.worker.terminate()
    this.slots[index] = this.spawn()
    if (slot.job != null) this.settle(slot.job, err)
    slot.job = null
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
