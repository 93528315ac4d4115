import { faultWindows, type FaultWindow } from '../history/fault-windows.ts'
import { operations, type HistoryEvent, type ObserveEvent, type Operation } from '../history/history.ts'
import { type CheckContext, type CheckResult, contextOf } from './check-result.ts'

/**
 * Vacuity (Antithesis' "sometimes"): a run only proves something if its faults bit. For each
 * fault window: the nemesis saw it take effect (packets dropped by the partition, packets
 * through netem, a node seen down after a kill, pause or leave), it lasted longer than the
 * detection time, and every workload ran during it. Otherwise `unknown`, with the reasons.
 */
export function checkVacuity (history: readonly HistoryEvent[], ctx: CheckContext = contextOf(history)): CheckResult {
  const windows = faultWindows(history)
  if (windows.length === 0) return { valid: 'unknown', summary: 'no fault was applied', windows: [] }
  const observations = history.filter((e): e is ObserveEvent => e.type === 'observe')
  const ops = { chat: operations(history, 'chat.send'), rpc: operations(history, 'rpc.call'), jobs: operations(history, 'jobs.count') }
  const reports = windows.map(w => {
    const reasons: string[] = []
    const length = w.end - w.start
    const bit = tookEffect(w, observations)
    if (bit != null) reasons.push(bit)
    const needsDetection = w.kind !== 'netem'
    if (needsDetection && length < ctx.deadAfterMs) reasons.push(`it lasted ${Math.round(length)} ms, less than the ${ctx.deadAfterMs} ms detection time`)
    for (const [name, list] of Object.entries(ops)) {
      if (!list.some(op => overlaps(op, w))) reasons.push(`no ${name} operation ran during it`)
    }
    return { kind: w.kind, start: Math.round(w.start), end: Math.round(w.end), effect: w.effect ?? null, bit: reasons.length === 0, reasons }
  })
  const missed = reports.filter(r => !r.bit)
  return {
    valid: missed.length === 0 ? true : 'unknown',
    summary: missed.length === 0 ? `all ${reports.length} faults bit` : `${missed.length} of ${reports.length} faults did not bite: ${missed[0].kind} at ${missed[0].start} ms: ${missed[0].reasons[0]}`,
    windows: reports
  }
}

function overlaps (op: Operation, w: FaultWindow): boolean {
  const end = op.done?.t ?? Number.POSITIVE_INFINITY
  return op.invoke.t <= w.end && end >= w.start
}

/** Why the fault did not take effect, or undefined when it did. */
function tookEffect (w: FaultWindow, observations: readonly ObserveEvent[]): string | undefined {
  const f = w.fault
  if (f.f === 'partition') {
    const dropped = w.effect?.droppedPackets ?? 0
    return dropped > 0 ? undefined : 'the partition dropped no packet'
  }
  if (f.f === 'netem') {
    if (f.lossPercent > 0) return (w.effect?.droppedPackets ?? 0) > 0 ? undefined : 'the loss dropped no packet'
    if (w.effect?.delayApplied === 0) return 'the delay was not applied (the kernel has no netem)'
    return (w.effect?.sentPackets ?? 0) > 0 ? undefined : 'no packet went through netem'
  }
  if ('nodes' in f) {
    const seenDown = observations.some(o => o.t >= w.start && o.t <= w.end + 1 && !f.nodes.includes(o.node) &&
      f.nodes.some(n => o.view[n] != null && o.view[n] !== 'alive'))
    return seenDown ? undefined : `no other node saw ${f.nodes.map(n => `n${n}`).join(', ')} go down`
  }
  return undefined
}
