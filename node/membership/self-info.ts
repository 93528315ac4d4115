import type { WorkerCapacity } from '../../protocols/membership/index.ts'

/** What this node says about itself in each heartbeat; read fresh at every beat. */
export interface SelfInfo {
  nick: string
  version: string
  capacity: () => { workers: WorkerCapacity, queue: number }
  services: () => string[]
  roles: () => string[]
  addrs: () => string[]
}

/** (busy slots + queued work) / total slots: 0 idle, 1 full, above 1 backlogged. */
export function loadOf (workers: WorkerCapacity, queue: number): number {
  if (workers.total === 0) return queue > 0 ? 1 : 0
  return Math.round(((workers.total - workers.free + queue) / workers.total) * 1000) / 1000
}
