import type { Fault, SimPlan } from '../plan/plan.ts'

/**
 * The history of a run, Jepsen-style: every operation as an invoke and its completion
 * (ok / fail / info = indeterminate), every fault the nemesis applied, and what the runner
 * saw of each node's member table. `t` is ms since the run started; nodes are indices.
 */
export type HistoryEvent = HeaderEvent | OpEvent | NemesisEvent | ObserveEvent | PhaseEvent | HarnessEvent

export interface HeaderEvent {
  t: 0
  type: 'header'
  /** Wall-clock time of t = 0, to turn the nodes' own timestamps into history times. */
  epochMs: number
  plan: SimPlan
  /** Peer id of each node, by index. */
  peerIds: string[]
}

export type OpType = 'invoke' | 'ok' | 'fail' | 'info'
export type OpName = 'chat.send' | 'chat.read' | 'rpc.call' | 'jobs.count'

export interface OpEvent {
  t: number
  type: OpType
  /** Pairs an invoke with its completion. */
  op: number
  node: number
  f: OpName
  value?: any
  /** For fail and info: the error's name and message, one line. */
  error?: string
}

export interface NemesisEvent {
  t: number
  type: 'nemesis'
  fault: Fault
  /** The final heal at the end of the fault phase, not part of the plan's own events. */
  final?: boolean
  /** What the nemesis measured when it undid a fault: packets dropped, netem counters. */
  effect?: Record<string, number>
}

export interface ObserveEvent {
  t: number
  type: 'observe'
  node: number
  /** The node's member table: node index -> state (alive | suspect | dead | left); absent = unknown to it. */
  view: Record<number, string>
}

export interface PhaseEvent {
  t: number
  type: 'phase'
  phase: string
}

/**
 * How the runner itself fared, written once at the end: the round trips of its reads of the
 * nodes' member tables (a node whose event loop is starved answers late, and its timers fire
 * late too) and the machine's load average.
 */
export interface HarnessEvent {
  t: number
  type: 'harness'
  controlRoundTripMs: { count: number, p50: number, p90: number, p99: number, max: number } | null
  loadAverage: number[]
  cores: number
}

export function isOp (e: HistoryEvent): e is OpEvent {
  return e.type === 'invoke' || e.type === 'ok' || e.type === 'fail' || e.type === 'info'
}

/** One operation: its invoke and (when it completed) its completion. */
export interface Operation {
  op: number
  node: number
  f: OpName
  invoke: OpEvent
  done?: OpEvent
}

export function operations (history: readonly HistoryEvent[], f?: OpName): Operation[] {
  const byOp = new Map<number, Operation>()
  for (const e of history) {
    if (!isOp(e) || (f != null && e.f !== f)) continue
    if (e.type === 'invoke') byOp.set(e.op, { op: e.op, node: e.node, f: e.f, invoke: e })
    else {
      const op = byOp.get(e.op)
      if (op != null) op.done = e
    }
  }
  return [...byOp.values()]
}

export function headerOf (history: readonly HistoryEvent[]): HeaderEvent {
  const header = history.find(e => e.type === 'header')
  if (header == null) throw new Error('the history has no header')
  return header
}

/** Serialises a history as JSON lines (history.jsonl). */
export function toJsonLines (history: readonly HistoryEvent[]): string {
  return history.map(e => JSON.stringify(e)).join('\n') + '\n'
}

export function fromJsonLines (text: string): HistoryEvent[] {
  return text.split('\n').filter(l => l.trim() !== '').map(l => JSON.parse(l) as HistoryEvent)
}
