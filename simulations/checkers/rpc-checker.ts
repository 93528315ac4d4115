import { faultWindows } from '../history/fault-windows.ts'
import { operations, type HistoryEvent } from '../history/history.ts'
import { type CheckContext, type CheckResult, contextOf, quantiles } from './check-result.ts'

/** How far past its deadline a call may answer: the control socket hop and a busy event loop. */
export const RPC_DEADLINE_SLACK_MS = 2000

/**
 * rpc: every call answers the right result or fails with a named error, and none runs past
 * its deadline (plus a little slack), during faults as outside them. The runner gives up on a
 * call at deadline + slack and records it as `info` with `hung`; a call whose caller was
 * killed under it is `info` with the reason, and proves nothing either way.
 */
export function checkRpc (history: readonly HistoryEvent[], _ctx: CheckContext = contextOf(history)): CheckResult {
  const calls = operations(history, 'rpc.call')
  if (calls.length === 0) return { valid: 'unknown', summary: 'no rpc call was made' }
  const windows = faultWindows(history)
  const duringFault = (t: number): boolean => windows.some(w => w.start <= t && t <= w.end)
  const problems: string[] = []
  /** Problems that are about time only (a hang, a late answer), which a starved machine can cause. */
  let timingProblems = 0
  const errors: Record<string, number> = {}
  const elapsed: number[] = []
  let ok = 0
  let failed = 0
  let hung = 0
  let indeterminate = 0
  for (const call of calls) {
    const deadline = Number(call.invoke.value?.deadlineMs ?? 0)
    const done = call.done
    const label = `call from n${call.node} at ${Math.round(call.invoke.t)} ms`
    const end = done?.t ?? Number.POSITIVE_INFINITY
    const callerStopped = windows.some(w => (w.kind === 'pause' || w.kind === 'kill' || w.kind === 'leave') &&
      'nodes' in w.fault && w.fault.nodes.includes(call.node) && w.start <= end && w.end >= call.invoke.t)
    if (done?.type === 'info' && (done.error !== 'hung' || callerStopped)) {
      // The calling node itself was stopped or killed under the call: indeterminate, not a hang.
      indeterminate++
      continue
    }
    if (done == null || done.type === 'info') {
      hung++
      timingProblems++
      problems.push(`${label} did not answer within its ${deadline} ms deadline`)
      continue
    }
    const took = done.t - call.invoke.t
    elapsed.push(took)
    if (took > deadline + RPC_DEADLINE_SLACK_MS) {
      timingProblems++
      problems.push(`${label} answered after ${Math.round(took)} ms, past its ${deadline} ms deadline`)
    }
    if (done.type === 'ok') {
      ok++
      if (done.value?.result !== call.invoke.value?.expect) problems.push(`${label} answered ${JSON.stringify(done.value?.result)?.slice(0, 40)}, expected ${JSON.stringify(call.invoke.value?.expect)}`)
    } else {
      failed++
      const name = /^([A-Za-z]+Error)\b/.exec(done.error ?? '')?.[1]
      if (name == null) problems.push(`${label} failed without a named error: ${String(done.error).slice(0, 80)}`)
      else errors[name] = (errors[name] ?? 0) + 1
    }
  }
  return {
    valid: problems.length === 0,
    summary: `${calls.length} calls: ${ok} ok, ${failed} failed with a named error, ${hung} hung${indeterminate > 0 ? `, ${indeterminate} cut short by their caller's death` : ''}`,
    calls: calls.length,
    duringFaults: calls.filter(c => duringFault(c.invoke.t)).length,
    ok,
    failed,
    hung,
    indeterminate,
    errors,
    elapsedMs: quantiles(elapsed),
    problems: problems.slice(0, 20),
    onlyTiming: problems.length > 0 && timingProblems === problems.length
  }
}
