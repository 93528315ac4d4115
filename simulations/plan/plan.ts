import type { Grudge } from './grudge.ts'

/**
 * A simulation plan: everything a run does, decided before it starts, so the same seed gives
 * the same plan and a plan file replays a run by hand. Times are in ms from the start of the
 * fault phase (after the nodes found each other and the warm-up workload ran).
 */
export interface SimPlan {
  scenario: string
  seed: number
  nodes: number
  /** The nodes' --heartbeat; every detection timeout scales with it. */
  heartbeatMs: number
  /** Workload alone before the first fault, so there is a baseline to compare with. */
  warmupMs: number
  /** When the fault phase ends: every fault still active is healed here (Jepsen's final generator). */
  faultPhaseMs: number
  /** The longest wait after the final heal for the views to converge and the chat to fill in. */
  settleMs: number
  workload: Workload
  faults: FaultEvent[]
}

export interface Workload {
  /** Each node sends a chat message this often. */
  chatEveryMs: number
  /** Each node calls greeter.hello on some peer this often. */
  rpcEveryMs: number
  /** The deadline given to each rpc call. */
  rpcDeadlineMs: number
  /** Distributed prime counts, each with the count known in advance. */
  jobs: JobSpec[]
}

export interface JobSpec {
  /** ms from the start of the fault phase; negative = during the warm-up. */
  at: number
  /** The node that coordinates the job. */
  node: number
  from: number
  to: number
  /** The number of primes in [from, to], known independently of the mesh. */
  expected: number
}

export type FaultEvent = { at: number } & Fault

export type Fault =
  | { f: 'partition', shape: string, grudge: Grudge }
  | { f: 'heal' }
  | { f: 'kill', nodes: number[] }
  | { f: 'restart', nodes: number[] }
  | { f: 'pause', nodes: number[] }
  | { f: 'resume', nodes: number[] }
  | { f: 'netem', nodes: number[], delayMs: number, jitterMs: number, lossPercent: number }
  | { f: 'netem-clear', nodes: number[] }
  | { f: 'leave', nodes: number[] }
  | { f: 'join', nodes: number[] }

export type FaultName = Fault['f']

/** Faults that begin a fault window, and the fault that ends each. */
export const FAULT_ENDS: Readonly<Record<string, FaultName>> = {
  partition: 'heal',
  kill: 'restart',
  pause: 'resume',
  netem: 'netem-clear',
  leave: 'join'
}

export function nodeName (i: number): string {
  return `n${i}`
}
