import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { HistoryRecorder } from '../../../simulations/history/recorder.ts'
import { generatePlan } from '../../../simulations/plan/scenarios.ts'
import type { DrivenNode } from '../../../simulations/runner/driven-node.ts'
import { WorkloadDriver } from '../../../simulations/runner/workload.ts'

describe('the simulation workload', () => {
  it('stopping the clients ends their waits between operations: a hundred-node run waited minutes for them before settling', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-workload-test-'))
    try {
      // Homes with no node behind them: a call would fail at once, as to a node that is down.
      const nodes: DrivenNode[] = [0, 1].map(index => ({ opts: { index, home: join(dir, `n${index}`) }, name: `n${index}`, peerId: `peer${index}`, running: true, stopped: false, stops: 0 }))
      const plan = generatePlan('partition-halves', { nodes: 2, seed: 1, cycles: 1 })
      const history = new HistoryRecorder(plan)
      // An operation every ten minutes per node and kind: each loop starts waiting a random part of that.
      const workload = new WorkloadDriver(nodes, history, { chatEveryMs: 600_000, rpcEveryMs: 600_000, rpcDeadlineMs: 1000, jobs: [] })
      workload.start()
      await workload.stopClients()
      // Stopped within the test's few seconds, with every operation it started completed.
      const count = (types: string[]): number => history.events.filter(e => types.includes(e.type)).length
      expect(count(['ok', 'fail', 'info'])).toBe(count(['invoke']))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
