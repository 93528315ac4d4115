import type { Fault, SimPlan } from '../plan/plan.ts'
import type { HarnessEvent, HistoryEvent, OpName, OpType } from './history.ts'

/** Collects a run's history as it happens; times are ms since `epochMs`. */
export class HistoryRecorder {
  readonly events: HistoryEvent[] = []
  readonly epochMs: number
  private nextOp = 1

  constructor (plan: SimPlan, epochMs = Date.now()) {
    this.epochMs = epochMs
    this.events.push({ t: 0, type: 'header', epochMs, plan, peerIds: [] })
  }

  now (): number {
    return Date.now() - this.epochMs
  }

  setPeerIds (ids: string[]): void {
    const header = this.events[0]
    if (header.type === 'header') header.peerIds = ids
  }

  invoke (node: number, f: OpName, value: unknown): number {
    const op = this.nextOp++
    this.events.push({ t: this.now(), type: 'invoke', op, node, f, value })
    return op
  }

  complete (op: number, node: number, f: OpName, type: Exclude<OpType, 'invoke'>, value?: unknown, error?: string): void {
    this.events.push({ t: this.now(), type, op, node, f, ...(value !== undefined ? { value } : {}), ...(error != null ? { error } : {}) })
  }

  nemesis (fault: Fault, extra: { final?: boolean, effect?: Record<string, number> } = {}): void {
    this.events.push({ t: this.now(), type: 'nemesis', fault, ...extra })
  }

  observe (node: number, view: Record<number, string>): void {
    this.events.push({ t: this.now(), type: 'observe', node, view })
  }

  harness (event: Omit<HarnessEvent, 't' | 'type'>): void {
    this.events.push({ t: this.now(), type: 'harness', ...event })
  }

  phase (phase: string): void {
    this.events.push({ t: this.now(), type: 'phase', phase })
  }
}
