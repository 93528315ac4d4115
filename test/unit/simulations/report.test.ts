import { describe, expect, it } from 'vitest'
import { runCheckers } from '../../../simulations/checkers/run-checkers.ts'
import { deliverySvg } from '../../../simulations/report/delivery-svg.ts'
import { latencySvg } from '../../../simulations/report/latency-svg.ts'
import { type SimResults, verdictLine } from '../../../simulations/report/results.ts'
import { summaryMarkdown } from '../../../simulations/report/summary-md.ts'
import { timelineSvg } from '../../../simulations/report/timeline-svg.ts'
import { headerOf } from '../../../simulations/history/history.ts'
import { healthyRun } from './sim-history.ts'

describe('report', () => {
  const history = healthyRun().build()

  it('timeline.svg draws what each node saw of each other, and the cut', () => {
    const svg = timelineSvg(history)
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    expect(svg).toContain('n1 saw n0 dead from 15000 ms')
    expect(svg).toContain('n0 saw n2 suspect from 13200 ms')
    expect(svg).toContain('<title>partition isolate-one: 10000–20000 ms</title>')
  })

  it('delivery.svg draws one curve per acknowledged message, those sent during the cut apart', () => {
    const svg = deliverySvg(history)
    expect(svg.match(/<path /g)).toHaveLength(9)
    expect(svg).toContain('sent during a fault (3)')
    expect(svg).toContain('sent outside faults (6)')
  })

  it('latency.svg plots every chat message and rpc call', () => {
    expect(latencySvg(history).match(/<circle /g)).toHaveLength(11)
  })

  it('the verdict line and summary.md name the failing checker', () => {
    const broken = healthyRun()
    broken.op(0, 'jobs.count', 25_000, { from: 1, to: 10, expected: 4 }, 26_000, 'ok', { count: '5', shards: 1, peers: [{ id: 'p', shards: 1 }] })
    const h = broken.build()
    const verdict = runCheckers(h)
    const plan = headerOf(h).plan
    const results: SimResults = { valid: verdict.valid, scenario: plan.scenario, seed: plan.seed, tier: 'netns', nodes: plan.nodes, reproduce: 'mesh sim isolate-one --nodes 3 --seed 1 --cycles 1', startedAt: '2026-11-29T22:00:00.000Z', timings: { setupMs: 1 }, peakRssMb: [180], checkers: verdict.checkers, plan, dir: '/tmp/x' }
    expect(verdictLine(results)).toBe('INVALID: isolate-one seed 1, 3 nodes (jobs: job on n0 [1, 10] counted 5, expected 4); report in /tmp/x')
    const md = summaryMarkdown(results)
    expect(md).toContain('| jobs | false | job on n0 [1, 10] counted 5, expected 4 |')
    expect(md).toContain('Reproduce: `mesh sim isolate-one --nodes 3 --seed 1 --cycles 1`')
    // Detection of the cut: n0 seen dead by n1 and n2 (and they by n0) 5000–5200 ms after it began, p50 5100.
    expect(md).toContain('| partition | 3100 / 3200 / 3200 (4) | 5100 / 5200 / 5200 (4) | 4 | 0 |')
    expect(md).toContain('| partition | 10000 | 20000 | yes |  |')
  })
})
