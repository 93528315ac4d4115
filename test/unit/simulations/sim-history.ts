import type { HistoryEvent, OpName, OpType } from '../../../simulations/history/history.ts'
import { generatePlan } from '../../../simulations/plan/scenarios.ts'

/**
 * A hand-written history of a healthy run, for the checker tests: three nodes, heartbeat 1 s,
 * n0 cut off from n1 and n2 from t=10 s to t=20 s; each test breaks one thing in it.
 */
export class HistoryBuilder {
  readonly events: HistoryEvent[] = []
  private nextOp = 1

  constructor (nodes = 3) {
    const plan = generatePlan('isolate-one', { nodes, seed: 1, cycles: 1 })
    this.events.push({ t: 0, type: 'header', epochMs: 1_700_000_000_000, plan, peerIds: Array.from({ length: nodes }, (_, i) => `peer${i}`) })
  }

  /** An operation from invoke to completion; returns its op number. */
  op (node: number, f: OpName, invokeAt: number, invokeValue: unknown, doneAt: number | undefined, done: OpType, doneValue?: unknown, error?: string): number {
    const op = this.nextOp++
    this.events.push({ t: invokeAt, type: 'invoke', op, node, f, value: invokeValue })
    if (doneAt != null) this.events.push({ t: doneAt, type: done, op, node, f, value: doneValue, ...(error != null ? { error } : {}) })
    return op
  }

  observe (t: number, node: number, view: Record<number, string>): this {
    this.events.push({ t, type: 'observe', node, view })
    return this
  }

  partition (t: number, grudge: Record<number, number[]>): this {
    this.events.push({ t, type: 'nemesis', fault: { f: 'partition', shape: 'isolate-one', grudge } })
    return this
  }

  heal (t: number, droppedPackets = 120): this {
    this.events.push({ t, type: 'nemesis', fault: { f: 'heal' }, effect: { droppedPackets } })
    return this
  }

  /** The runner's reads of the nodes answered in p99 `p99` ms. */
  harness (p99: number): this {
    this.events.push({ t: 31_000, type: 'harness', controlRoundTripMs: { count: 100, p50: 5, p90: 10, p99, max: p99 }, loadAverage: [0.5, 0.5, 0.5], cores: 2 })
    return this
  }

  /** Sorted by time, as a runner writes it. */
  build (): HistoryEvent[] {
    return [...this.events].sort((a, b) => a.t - b.t)
  }
}

export interface HealthyOptions {
  /** Leave out the final read of this message on this node. */
  dropOn?: { node: number, text: string }
}

/** The healthy run: every checker passes it. */
export function healthyRun (): HistoryBuilder {
  const h = new HistoryBuilder(3)
  const all = { 0: 'alive', 1: 'alive', 2: 'alive' }
  for (const n of [0, 1, 2]) h.observe(1000, n, all)
  h.partition(10_000, { 0: [1, 2], 1: [0], 2: [0] })
  // n1 and n2 see n0 go suspect then dead, and n0 sees them go.
  h.observe(13_000, 1, { ...all, 0: 'suspect' }).observe(13_100, 2, { ...all, 0: 'suspect' }).observe(13_200, 0, { ...all, 1: 'suspect', 2: 'suspect' })
  h.observe(15_000, 1, { ...all, 0: 'dead' }).observe(15_100, 2, { ...all, 0: 'dead' }).observe(15_200, 0, { ...all, 1: 'dead', 2: 'dead' })
  h.heal(20_000)
  for (const n of [0, 1, 2]) h.observe(22_000, n, all)

  // A message from each node before, during and after the cut.
  const sent: Array<{ id: string, text: string, t: number }> = []
  for (const [k, t] of [1000, 12_000, 25_000].entries()) {
    for (const n of [0, 1, 2]) {
      const text = `n${n}-${k}`
      const id = `m${n}${k}`
      h.op(n, 'chat.send', t + n, { text }, t + n + 5, 'ok', { id, ts: t })
      sent.push({ id, text, t: t + n })
    }
  }
  for (const n of [0, 1, 2]) {
    // During the cut the other side's messages arrive only after the heal (anti-entropy).
    const messages = sent.map(m => ({ id: m.id, text: m.text, at: m.t > 10_000 && m.t < 20_000 ? 21_000 : m.t + 50 }))
    h.op(n, 'chat.read', 30_000, { room: 'sim' }, 30_050, 'ok', { messages })
  }
  h.op(1, 'jobs.count', 11_000, { from: 1, to: 100_000_000, expected: 5_761_455 }, 16_000, 'ok',
    { count: '5761455', shards: 12, peers: [{ id: 'peer1', shards: 7 }, { id: 'peer2', shards: 5 }], retries: 1, reassigned: 2, duplicatesDropped: 0 })
  h.op(0, 'rpc.call', 12_000, { deadlineMs: 3000, expect: 'World' }, 12_020, 'ok', { result: 'World', peer: 'peer0' })
  h.op(2, 'rpc.call', 12_500, { deadlineMs: 3000, expect: 'World' }, 15_400, 'fail', undefined, 'DeadlineExceededError: no answer within 3000 ms')
  h.harness(40)
  return h
}
