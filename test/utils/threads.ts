import { readdirSync, readFileSync } from 'node:fs'
import { WORKER_THREAD_NAME } from '../../node/compute/worker-pool.ts'

/**
 * The worker pool's threads alive in process `pid`, as the OS sees them (Linux /proc): the
 * pool names its threads, so this counts real threads, not the pool's own bookkeeping.
 */
export function poolThreads (pid: number = process.pid): number {
  let n = 0
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      if (readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() === WORKER_THREAD_NAME) n++
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return n
}
