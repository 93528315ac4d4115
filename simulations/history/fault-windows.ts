import { cut, type Grudge } from '../plan/grudge.ts'
import { FAULT_ENDS, type Fault } from '../plan/plan.ts'
import type { HistoryEvent, NemesisEvent } from './history.ts'

/** A fault from the moment it was applied until it was undone (or the history ended). */
export interface FaultWindow {
  kind: 'partition' | 'kill' | 'pause' | 'netem' | 'leave'
  start: number
  end: number
  fault: Fault
  /** What the nemesis measured when it undid the fault. */
  effect?: Record<string, number>
}

/** Pairs each fault with the event that undid it: a heal ends every partition, the others end per node. */
export function faultWindows (history: readonly HistoryEvent[]): FaultWindow[] {
  const nemesis = history.filter((e): e is NemesisEvent => e.type === 'nemesis')
  const last = history.reduce((m, e) => Math.max(m, e.t), 0)
  const open: Array<FaultWindow & { ended: boolean }> = []
  for (const e of nemesis) {
    const f = e.fault
    if (Object.hasOwn(FAULT_ENDS, f.f)) {
      open.push({ kind: f.f as FaultWindow['kind'], start: e.t, end: last, fault: f, ended: false, ...(e.effect != null ? { effect: e.effect } : {}) })
      continue
    }
    for (const w of open) {
      if (w.ended || FAULT_ENDS[w.kind] !== f.f) continue
      if (f.f !== 'heal' && !sameNodes(w.fault, f)) continue
      w.end = e.t
      w.ended = true
      if (e.effect != null) w.effect = { ...w.effect, ...e.effect }
    }
  }
  return open.map(({ ended: _ended, ...w }) => w)
}

function nodesOf (f: Fault): number[] {
  return 'nodes' in f ? f.nodes : []
}

function sameNodes (a: Fault, b: Fault): boolean {
  const x = nodesOf(a)
  const y = nodesOf(b)
  return x.some(n => y.includes(n))
}

/** True when the window's fault may change what `a` knows of `b`. */
export function affects (w: FaultWindow, a: number, b: number): boolean {
  if (w.fault.f === 'partition') return cut(w.fault.grudge, a, b)
  const nodes = nodesOf(w.fault)
  return nodes.includes(a) || nodes.includes(b)
}

/**
 * Pairs that cannot hear each other even through others: in different components of the
 * graph of links that work both ways. Gossip relays heartbeats, so only these pairs are
 * expected to see each other fail (in a bridge partition, nobody is).
 */
export function disconnectedPairs (grudge: Grudge, nodes: number): Array<[number, number]> {
  const component = Array.from({ length: nodes }, (_, i) => i)
  const find = (x: number): number => {
    while (component[x] !== x) x = component[x]
    return x
  }
  for (let a = 0; a < nodes; a++) {
    for (let b = a + 1; b < nodes; b++) if (!cut(grudge, a, b)) component[find(a)] = find(b)
  }
  const pairs: Array<[number, number]> = []
  for (let a = 0; a < nodes; a++) {
    for (let b = 0; b < nodes; b++) if (a !== b && find(a) !== find(b)) pairs.push([a, b])
  }
  return pairs
}

/** The nodes running at the end: those not killed or gone without coming back. */
export function liveAtEnd (history: readonly HistoryEvent[], nodes: number): number[] {
  const down = new Set<number>()
  for (const e of history) {
    if (e.type !== 'nemesis') continue
    const f = e.fault
    if (f.f === 'kill' || f.f === 'leave') for (const n of f.nodes) down.add(n)
    if (f.f === 'restart' || f.f === 'join') for (const n of f.nodes) down.delete(n)
  }
  return Array.from({ length: nodes }, (_, i) => i).filter(i => !down.has(i))
}

/** When the last fault was undone: the final heal. */
export function finalHealAt (history: readonly HistoryEvent[]): number | undefined {
  const nemesis = history.filter((e): e is NemesisEvent => e.type === 'nemesis')
  return nemesis.length === 0 ? undefined : nemesis[nemesis.length - 1].t
}
