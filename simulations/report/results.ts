import type { Verdict } from '../checkers/run-checkers.ts'
import type { Validity } from '../checkers/check-result.ts'
import type { SimPlan } from '../plan/plan.ts'

/** results.json: what a script reads of a run. */
export interface SimResults {
  valid: Validity
  scenario: string
  seed: number
  tier: 'netns' | 'process'
  nodes: number
  /** The command that runs the same plan again. */
  reproduce: string
  startedAt: string
  timings: Record<string, number>
  peakRssMb: number[]
  checkers: Verdict['checkers']
  plan: SimPlan
  /** Where the rest of the report is. */
  dir: string
}

/** The verdict line the command ends with. */
export function verdictLine (r: SimResults): string {
  const word = r.valid === true ? 'VALID' : r.valid === false ? 'INVALID' : 'UNKNOWN'
  const failing = Object.entries(r.checkers).filter(([, c]) => c.valid !== true).map(([name, c]) => `${name}: ${c.summary}`)
  const why = failing.length > 0 ? ` (${failing.join('; ')})` : ''
  return `${word}: ${r.scenario} seed ${r.seed}, ${r.nodes} nodes${why}; report in ${r.dir}`
}
