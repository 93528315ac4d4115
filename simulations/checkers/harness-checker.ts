import { headerOf, type HarnessEvent, type HistoryEvent } from '../history/history.ts'
import type { CheckResult } from './check-result.ts'

/**
 * Whether the machine could run the simulation fairly. A node that takes longer than a
 * heartbeat to answer a read of its member table has an event loop starved of CPU: its own
 * heartbeats and timers run late too, so timing verdicts (detection, false deaths, deadlines)
 * say more about the machine than about the mesh. Then `unknown`, with the figures; the
 * verdicts that do not depend on time (lost, duplicated, order, counts) still stand.
 */
export function checkHarness (history: readonly HistoryEvent[]): CheckResult {
  const harness = history.find((e): e is HarnessEvent => e.type === 'harness')
  const { plan } = headerOf(history)
  if (harness?.controlRoundTripMs == null) return { valid: 'unknown', summary: 'the runner recorded no round trips to the nodes' }
  const rtt = harness.controlRoundTripMs
  const healthy = rtt.p99 <= plan.heartbeatMs
  return {
    valid: healthy ? true : 'unknown',
    summary: healthy
      ? `nodes answered in p99 ${rtt.p99} ms (load ${harness.loadAverage[0]} on ${harness.cores} cores)`
      : `nodes answered in p99 ${rtt.p99} ms, more than a heartbeat (${plan.heartbeatMs} ms): the machine (load ${harness.loadAverage[0]} on ${harness.cores} cores) was too busy for timing verdicts`,
    controlRoundTripMs: rtt,
    loadAverage: harness.loadAverage,
    cores: harness.cores
  }
}
