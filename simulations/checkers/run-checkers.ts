import type { HistoryEvent } from '../history/history.ts'
import { checkChat } from './chat-checker.ts'
import { type CheckResult, combine, contextOf, type Validity } from './check-result.ts'
import { checkHarness } from './harness-checker.ts'
import { checkJobs } from './jobs-checker.ts'
import { checkMembership } from './membership-checker.ts'
import { checkRpc } from './rpc-checker.ts'
import { checkVacuity } from './vacuity-checker.ts'

export interface Verdict {
  valid: Validity
  checkers: Record<string, CheckResult>
}

/** Every checker over one history; the run is valid only if each is, unknown if a fault did not bite. */
export function runCheckers (history: readonly HistoryEvent[]): Verdict {
  const ctx = contextOf(history)
  const checkers: Record<string, CheckResult> = {
    membership: checkMembership(history, ctx),
    chat: checkChat(history, ctx),
    jobs: checkJobs(history),
    rpc: checkRpc(history, ctx),
    vacuity: checkVacuity(history, ctx),
    harness: checkHarness(history)
  }
  return { valid: overall(checkers), checkers }
}

/**
 * The run's verdict. On a machine too busy for timing (harness not true), a verdict that
 * rests on time alone (membership's detections and deaths, rpc hangs and late answers)
 * cannot condemn the mesh: it counts as unknown. Lost, duplicated or misordered messages
 * and wrong counts are invalid whatever the load.
 */
function overall (checkers: Record<string, CheckResult>): Validity {
  const starved = checkers.harness.valid !== true
  return combine(Object.entries(checkers).map(([name, c]) => {
    const timing = name === 'membership' || (name === 'rpc' && c.onlyTiming === true)
    return starved && timing && c.valid === false ? 'unknown' : c.valid
  }))
}
