import { timingFor } from '../../node/membership/timing.ts'
import { headerOf, type HistoryEvent } from '../history/history.ts'

/** Jepsen's three answers: the history is valid, it is not, or it cannot tell (the fault did not bite, nothing ran). */
export type Validity = true | false | 'unknown'

export interface CheckResult {
  valid: Validity
  /** One line a person reads first. */
  summary: string
  [detail: string]: unknown
}

export interface CheckContext {
  nodes: number
  heartbeatMs: number
  /** Time for a silent peer to be declared dead: suspicion after 2.5 heartbeats, death 2 later. */
  deadAfterMs: number
}

export function contextOf (history: readonly HistoryEvent[]): CheckContext {
  const { plan } = headerOf(history)
  const timing = timingFor(plan.heartbeatMs)
  return { nodes: plan.nodes, heartbeatMs: plan.heartbeatMs, deadAfterMs: timing.suspectAfterMs + timing.suspicionTimeoutMs }
}

/** false wins over unknown, unknown over true. */
export function combine (verdicts: readonly Validity[]): Validity {
  if (verdicts.includes(false)) return false
  if (verdicts.includes('unknown')) return 'unknown'
  return true
}

/** Nearest-rank quantiles of `values` (ms), rounded; null when empty. */
export function quantiles (values: readonly number[]): { count: number, p50: number, p90: number, p99: number, max: number } | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const q = (p: number): number => Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)])
  return { count: sorted.length, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: Math.round(sorted[sorted.length - 1]) }
}
