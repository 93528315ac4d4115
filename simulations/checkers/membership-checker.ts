import { affects, disconnectedPairs, faultWindows, finalHealAt, liveAtEnd, type FaultWindow } from '../history/fault-windows.ts'
import type { HistoryEvent, ObserveEvent } from '../history/history.ts'
import { type CheckContext, type CheckResult, combine, contextOf, quantiles, type Validity } from './check-result.ts'

/** Slack on top of the detection time before a death counts as false: the runner polls views, and timers run late under load. */
const FALSE_DEATH_GRACE_HEARTBEATS = 3

interface Transition { t: number, observer: number, target: number, from: string | undefined, to: string | undefined }

/**
 * Membership: after the final heal every live node's view holds exactly the live nodes, all
 * alive (convergence, and how long it took); during each fault the nodes that cannot hear a
 * peer even through others see it fail (detection time per fault kind); and no node is
 * declared dead when no fault touched it (false deaths; false suspicions are counted).
 */
export function checkMembership (history: readonly HistoryEvent[], ctx: CheckContext = contextOf(history)): CheckResult {
  const observations = history.filter((e): e is ObserveEvent => e.type === 'observe')
  if (observations.length === 0) return { valid: 'unknown', summary: 'no member table was ever read' }
  const windows = faultWindows(history)
  const live = liveAtEnd(history, ctx.nodes)
  const healAt = finalHealAt(history) ?? 0
  const transitions = transitionsOf(observations)

  const convergence = convergenceAfter(observations, live, healAt)
  const eachHeal = convergenceAfterEachWindow(history, observations, windows, ctx.nodes)
  const detection = detectionTimes(transitions, windows, ctx)
  const falseDeaths = unexplained(transitions, windows, ctx, 'dead')
  const { falseSuspicions, relayedSuspicions } = suspicions(transitions, windows, ctx)

  const verdicts: Validity[] = [
    convergence.convergedAfterMs != null,
    falseDeaths.length === 0,
    detection.missed === 0
  ]
  const valid = combine(verdicts)
  const parts = [
    convergence.convergedAfterMs == null ? 'views never converged after the heal' : `converged ${convergence.convergedAfterMs} ms after the heal`,
    `${falseDeaths.length} false deaths`,
    `${falseSuspicions.length} false suspicions` + (relayedSuspicions > 0 ? ` (${relayedSuspicions} more relayed across a cut)` : ''),
    detection.missed > 0 ? `${detection.missed} failures never detected` : `${detection.detected} detections`
  ]
  return {
    valid,
    summary: parts.join(', '),
    convergedAfterMs: convergence.convergedAfterMs,
    convergenceAfterEachFaultMs: eachHeal,
    convergenceMs: quantiles(eachHeal.filter((v): v is number => v != null)),
    unconverged: convergence.unconverged,
    detection: detection.byKind,
    missedDetections: detection.missedPairs.slice(0, 20),
    falseDeaths: falseDeaths.slice(0, 20),
    falseDeathCount: falseDeaths.length,
    falseSuspicions: falseSuspicions.slice(0, 20),
    falseSuspicionCount: falseSuspicions.length,
    relayedSuspicionCount: relayedSuspicions
  }
}

function transitionsOf (observations: readonly ObserveEvent[]): Transition[] {
  const last = new Map<number, Record<number, string>>()
  const out: Transition[] = []
  for (const o of observations) {
    const before = last.get(o.node) ?? {}
    const targets = new Set([...Object.keys(before), ...Object.keys(o.view)].map(Number))
    for (const target of targets) {
      if (target === o.node || before[target] === o.view[target]) continue
      out.push({ t: o.t, observer: o.node, target, from: before[target], to: o.view[target] })
    }
    last.set(o.node, o.view)
  }
  return out
}

/**
 * From `healAt` on, the time after which every live node's latest view shows every live node
 * alive and keeps doing so to the end of the history; null when the end is not converged.
 */
function convergenceAfter (observations: readonly ObserveEvent[], live: number[], healAt: number): { convergedAfterMs: number | null, unconverged: string[] } {
  const latest = new Map<number, Record<number, string>>()
  const wrong = (): string[] => {
    const out: string[] = []
    for (const a of live) {
      const view = latest.get(a)
      for (const b of live) if (a !== b && view?.[b] !== 'alive') out.push(`n${a} sees n${b} ${view?.[b] ?? 'not at all'}`)
    }
    return out
  }
  let i = 0
  for (; i < observations.length && observations[i].t <= healAt; i++) latest.set(observations[i].node, observations[i].view)
  let convergedAt: number | null = wrong().length === 0 ? healAt : null
  for (; i < observations.length; i++) {
    latest.set(observations[i].node, observations[i].view)
    const ok = wrong().length === 0
    if (!ok) convergedAt = null
    else if (convergedAt == null) convergedAt = observations[i].t
  }
  if (convergedAt == null) return { convergedAfterMs: null, unconverged: wrong().slice(0, 20) }
  return { convergedAfterMs: Math.round(convergedAt - healAt), unconverged: [] }
}

/**
 * For each fault window, the time from its end until every node up then first showed every
 * other one alive, looking no further than the next window's start (null: not before it).
 */
function convergenceAfterEachWindow (history: readonly HistoryEvent[], observations: readonly ObserveEvent[], windows: FaultWindow[], nodes: number): Array<number | null> {
  const ends = [...windows].sort((a, b) => a.end - b.end)
  return ends.map(w => {
    const nextStart = windows.filter(o => o.start >= w.end).reduce((m, o) => Math.min(m, o.start), Number.POSITIVE_INFINITY)
    const live = liveAtEnd(history.filter(e => e.t <= w.end), nodes)
    const latest = new Map<number, Record<number, string>>()
    const converged = (): boolean => live.every(a => live.every(b => a === b || latest.get(a)?.[b] === 'alive'))
    let pastEnd = false
    for (const o of observations) {
      if (o.t > nextStart) break
      if (!pastEnd && o.t >= w.end) {
        pastEnd = true
        if (converged()) return 0
      }
      latest.set(o.node, o.view)
      if (o.t >= w.end && converged()) return Math.round(o.t - w.end)
    }
    return converged() ? 0 : null
  })
}

/** What the fault should make `observer` see of `target`, or undefined when it need not see anything. */
function expectedState (w: FaultWindow, observer: number, target: number, nodes: number): string[] | undefined {
  const f = w.fault
  if (f.f === 'partition') return disconnectedPairs(f.grudge, nodes).some(([a, b]) => a === observer && b === target) ? ['dead'] : undefined
  if (f.f === 'kill' || f.f === 'pause') return f.nodes.includes(target) && !f.nodes.includes(observer) ? ['dead'] : undefined
  if (f.f === 'leave') return f.nodes.includes(target) && !f.nodes.includes(observer) ? ['left', 'dead'] : undefined
  return undefined
}

function detectionTimes (transitions: Transition[], windows: FaultWindow[], ctx: CheckContext): { byKind: Record<string, unknown>, detected: number, missed: number, missedPairs: string[] } {
  const times: Record<string, { suspect: number[], down: number[], expected: number, missed: number }> = {}
  const missedPairs: string[] = []
  let detected = 0
  for (const w of windows) {
    // A window shorter than the detection time cannot be expected to show anything.
    const longEnough = w.end - w.start >= ctx.deadAfterMs + FALSE_DEATH_GRACE_HEARTBEATS * ctx.heartbeatMs
    times[w.kind] ??= { suspect: [], down: [], expected: 0, missed: 0 }
    const entry = times[w.kind]
    for (let a = 0; a < ctx.nodes; a++) {
      for (let b = 0; b < ctx.nodes; b++) {
        const expected = a === b ? undefined : expectedState(w, a, b, ctx.nodes)
        if (expected == null) continue
        entry.expected++
        const seen = transitions.filter(x => x.observer === a && x.target === b && x.t >= w.start && x.t <= w.end)
        const suspect = seen.find(x => x.to === 'suspect')
        const down = seen.find(x => x.to != null && expected.includes(x.to))
        if (suspect != null) entry.suspect.push(suspect.t - w.start)
        if (down != null) {
          entry.down.push(down.t - w.start)
          detected++
        } else if (longEnough) {
          entry.missed++
          missedPairs.push(`n${a} never saw n${b} ${expected[0]} during the ${w.kind} at ${Math.round(w.start)} ms`)
        }
      }
    }
  }
  const byKind: Record<string, unknown> = {}
  for (const [kind, e] of Object.entries(times)) {
    byKind[kind] = { expectedPairs: e.expected, missed: e.missed, suspectMs: quantiles(e.suspect), downMs: quantiles(e.down) }
  }
  return { byKind, detected, missed: missedPairs.length, missedPairs }
}

/** Whether a fault between the pair explains the transition: the window, or the detection time after it. */
function explained (x: Transition, windows: FaultWindow[], ctx: CheckContext): boolean {
  const reach = ctx.deadAfterMs + FALSE_DEATH_GRACE_HEARTBEATS * ctx.heartbeatMs
  return windows.some(w => affects(w, x.observer, x.target) && w.start <= x.t && w.end + reach >= x.t)
}

/** Transitions to `state` that no fault window explains (the pair untouched in the detection time before it). */
function unexplained (transitions: Transition[], windows: FaultWindow[], ctx: CheckContext, state: string): string[] {
  return transitions
    .filter(x => x.to === state && !explained(x, windows, ctx))
    .map(x => `n${x.observer} saw n${x.target} ${state} at ${Math.round(x.t)} ms with no fault between them`)
}

/** Per partition window, the pairs that cannot reach each other even through others. */
const cutOff = new WeakMap<FaultWindow, Set<string>>()

/** Whether gossip from `a` could reach `b` during the window (through others: a bridge). */
function reachable (w: FaultWindow, a: number, b: number, nodes: number): boolean {
  if (w.fault.f !== 'partition') return true
  let pairs = cutOff.get(w)
  if (pairs == null) {
    pairs = new Set(disconnectedPairs(w.fault.grudge, nodes).map(([x, y]) => `${x},${y}`))
    cutOff.set(w, pairs)
  }
  return !pairs.has(`${a},${b}`)
}

/**
 * Suspicions no fault between the pair explains, split in two. Relayed: a node the fault cut
 * from the target already held it suspect or dead, and its word could reach the observer (the
 * cut between them healed, or a path around it), and suspicions travel by gossip (SWIM's
 * design: the suspect hears it too and refutes), so a node that still heard the target took
 * the other side's word for a while; after a heal each side's verdicts about the other reach
 * the nodes that were never cut from those members. False: nobody cut from the target doubted
 * it, so the suspicion came from the mesh itself (late heartbeats, a starved machine).
 */
function suspicions (transitions: Transition[], windows: FaultWindow[], ctx: CheckContext): { falseSuspicions: string[], relayedSuspicions: number } {
  const reach = ctx.deadAfterMs + FALSE_DEATH_GRACE_HEARTBEATS * ctx.heartbeatMs
  // Who holds each target suspect or dead now, as the transitions (in time order) go by.
  const doubters = new Map<number, Set<number>>()
  const falseSuspicions: string[] = []
  let relayedSuspicions = 0
  for (const x of transitions) {
    if (x.to === 'suspect' && !explained(x, windows, ctx)) {
      const relayed = windows.some(w => w.start <= x.t && w.end + reach >= x.t &&
        [...doubters.get(x.target) ?? []].some(c => c !== x.observer && affects(w, c, x.target) && (x.t > w.end || reachable(w, c, x.observer, ctx.nodes))))
      if (relayed) relayedSuspicions++
      else falseSuspicions.push(`n${x.observer} saw n${x.target} suspect at ${Math.round(x.t)} ms; nobody cut from it doubted it where its word could reach`)
    }
    const set = doubters.get(x.target) ?? new Set<number>()
    doubters.set(x.target, set)
    if (x.to === 'suspect' || x.to === 'dead') set.add(x.observer)
    else set.delete(x.observer)
  }
  return { falseSuspicions, relayedSuspicions }
}
