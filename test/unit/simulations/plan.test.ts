import { describe, expect, it } from 'vitest'
import { cut, majoritiesRingGrudge } from '../../../simulations/plan/grudge.ts'
import { parsePlan } from '../../../simulations/plan/plan-file.ts'
import { generatePlan, lightHeartbeatMs, scenarioList } from '../../../simulations/plan/scenarios.ts'

describe('scenario plans', () => {
  it('the same seed gives the same plan, for every scenario; another seed another plan', () => {
    for (const { name } of scenarioList()) {
      const a = generatePlan(name, { nodes: 6, seed: 7, cycles: 3 })
      const b = generatePlan(name, { nodes: 6, seed: 7, cycles: 3 })
      expect(JSON.stringify(a)).toBe(JSON.stringify(b))
      expect(a.faults.length).toBeGreaterThan(0)
      // Every job has a coordinator, and none that the window stops.
      for (const job of a.workload.jobs) expect(job.node, name).toBeTypeOf('number')
      for (const job of a.workload.jobs.filter(j => j.at >= 0)) {
        const opened = a.faults.filter(f => f.at === job.at - a.heartbeatMs)
        const stopped = opened.flatMap(f => f.f === 'kill' || f.f === 'pause' || f.f === 'leave' ? f.nodes : [])
        expect(stopped, name).not.toContain(job.node)
      }
    }
    const seven = generatePlan('partition-halves', { nodes: 6, seed: 7, cycles: 3 })
    const eight = generatePlan('partition-halves', { nodes: 6, seed: 8, cycles: 3 })
    expect(JSON.stringify(seven.faults)).not.toBe(JSON.stringify(eight.faults))
  })

  it('a light plan (the process tier) has the same faults, counts of a second, and a chat rate bounded for the whole mesh', () => {
    const full = generatePlan('isolate-one', { nodes: 100, seed: 3, cycles: 2 })
    const light = generatePlan('isolate-one', { nodes: 100, seed: 3, cycles: 2, light: true })
    // The same faults in heartbeats; a hundred nodes in one process beat every 11.2 s, not 1 s.
    const inHeartbeats = (plan: typeof full): unknown[] => plan.faults.map(f => ({ ...f, at: f.at / plan.heartbeatMs }))
    expect(inHeartbeats(light)).toEqual(inHeartbeats(full))
    expect(light.workload.jobs.map(j => j.node)).toEqual(full.workload.jobs.map(j => j.node))
    for (const job of light.workload.jobs) {
      expect(job.to).toBeLessThanOrEqual(10_000_000)
      expect([664_579, 316_066]).toContain(job.expected)
    }
    // A hundred nodes send about eight messages a heartbeat between them, not a hundred.
    expect(light.workload.chatEveryMs).toBe(13 * light.heartbeatMs)
    expect(100 / (light.workload.chatEveryMs / light.heartbeatMs)).toBeLessThanOrEqual(8)
    expect(generatePlan('isolate-one', { nodes: 8, seed: 3, light: true }).workload.chatEveryMs).toBe(1000)
  })

  it('time dilation: a light plan above 20 nodes beats slower, as the nodes to the power 1.5; --heartbeat overrides it', () => {
    expect([8, 20, 32, 64, 100].map(lightHeartbeatMs)).toEqual([1000, 1000, 2000, 5700, 11200])
    expect(generatePlan('partition-halves', { nodes: 100, seed: 1, light: true }).heartbeatMs).toBe(11200)
    expect(generatePlan('partition-halves', { nodes: 100, seed: 1 }).heartbeatMs).toBe(1000)
    expect(generatePlan('partition-halves', { nodes: 100, seed: 1, light: true, heartbeatMs: 3000 }).heartbeatMs).toBe(3000)
  })

  it('partition-halves cuts every cross pair and no pair within a half, and heals before the next cycle', () => {
    const plan = generatePlan('partition-halves', { nodes: 6, seed: 7, cycles: 2 })
    const [first, heal] = plan.faults
    if (first.f !== 'partition') throw new Error('the first fault is a partition')
    const side = (n: number): boolean => first.grudge[n].length === 3 && !first.grudge[n].includes(n)
    expect([0, 1, 2, 3, 4, 5].every(side)).toBe(true)
    expect(heal.f).toBe('heal')
    // The window outlasts detection (4.5 heartbeats) with room to spare.
    expect(heal.at - first.at).toBeGreaterThanOrEqual(8 * plan.heartbeatMs)
    expect(plan.faultPhaseMs).toBeGreaterThan(plan.faults[plan.faults.length - 1].at)
  })

  it('bridge leaves one node that sees everybody while the halves cannot see each other', () => {
    const plan = generatePlan('bridge', { nodes: 5, seed: 3, cycles: 1 })
    const f = plan.faults[0]
    if (f.f !== 'partition') throw new Error('a partition')
    const bridges = [0, 1, 2, 3, 4].filter(n => [0, 1, 2, 3, 4].every(m => !cut(f.grudge, n, m)))
    expect(bridges).toHaveLength(1)
  })

  it('majorities-ring: every node sees a majority and no two see the same set', () => {
    const grudge = majoritiesRingGrudge([3, 0, 4, 1, 2])
    const sees = [0, 1, 2, 3, 4].map(n => [0, 1, 2, 3, 4].filter(m => !cut(grudge, n, m)).join())
    for (const s of sees) expect(s.split(',').length).toBeGreaterThanOrEqual(3)
    expect(new Set(sees).size).toBe(5)
  })

  it('a plan written to JSON reads back the same; a bad field is named', () => {
    const plan = generatePlan('mixed', { nodes: 4, seed: 11, cycles: 4 })
    expect(parsePlan(JSON.stringify(plan))).toEqual(plan)
    const bad = { ...plan, faults: [{ at: 0, f: 'kill', nodes: [9] }] }
    expect(() => parsePlan(JSON.stringify(bad))).toThrow('faults[0].nodes[0] must be a whole number from 0 to 3')
    expect(() => parsePlan('{')).toThrow(/not JSON/)
    expect(() => parsePlan(JSON.stringify({ ...plan, faults: [{ at: 0, f: 'explode', nodes: [1] }] }))).toThrow(/faults\[0\]\.f must be one of/)
  })

  it('refuses an unknown scenario and too few nodes', () => {
    expect(() => generatePlan('nope', { nodes: 3, seed: 1 })).toThrow(/no scenario "nope"/)
    expect(() => generatePlan('pause', { nodes: 1, seed: 1 })).toThrow(/at least 2/)
  })
})
