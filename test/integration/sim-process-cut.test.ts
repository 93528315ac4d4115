import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HistoryRecorder } from '../../simulations/history/recorder.ts'
import { completeGrudge } from '../../simulations/plan/grudge.ts'
import { generatePlan } from '../../simulations/plan/scenarios.ts'
import { InProcessNode } from '../../simulations/runner/in-process-node.ts'
import { ProcessNemesis } from '../../simulations/runner/process-nemesis.ts'
import { waitUntil } from '../utils/wait.ts'

/**
 * The process tier's cut, on six real nodes in this process: it takes effect on every node at
 * the instant the history says it does. A cut applied node by node, over control calls
 * answered one at a time, let the side that could no longer hear a member tell the member's
 * own side, over connections not yet cut, that it was suspect: suspicions a node had of a
 * member it could hear, which the membership checker counted against the mesh.
 */
const NODES = 6
const HEARTBEAT_MS = 1000
const SIDES = [[0, 1, 2], [3, 4, 5]]

describe('sim process tier: the cut', () => {
  let root = ''
  const nodes: InProcessNode[] = []

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'mesh-sim-cut-test-'))
    const address = (i: number): string => `/memory/msimcut${process.pid}-n${i}`
    for (let i = 0; i < NODES; i++) nodes.push(new InProcessNode({ index: i, home: join(root, `n${i}`), listen: address(i), heartbeatMs: HEARTBEAT_MS }))
    await nodes[0].start()
    for (const node of nodes.slice(1)) node.opts.bootstrap = `${address(0)}/p2p/${nodes[0].peerId}`
    await Promise.all(nodes.slice(1).map(async n => { await n.start() }))
    await waitUntil('every node to see every other alive', () => nodes.every(a => nodes.every(b => a === b || a.node?.membership.member(b.peerId)?.state === 'alive')), 60_000)
  }, 90_000)

  afterAll(async () => {
    await Promise.all(nodes.map(async n => { await n.kill().catch(() => {}) }))
    await rm(root, { recursive: true, force: true })
  })

  it('cuts every node at once: nothing open across it, and no node doubts a member of its own side while the other side sees it die', async () => {
    const plan = generatePlan('partition-halves', { nodes: NODES, seed: 1, cycles: 1, heartbeatMs: HEARTBEAT_MS })
    const history = new HistoryRecorder(plan)
    const nemesis = new ProcessNemesis(nodes, history)
    const sideOf = (i: number): number => SIDES.findIndex(s => s.includes(i))
    const indexOf = new Map(nodes.map(n => [n.peerId, n.opts.index]))
    const ownSideDoubts: string[] = []
    for (const node of nodes) {
      for (const event of ['member:update', 'member:dead'] as const) {
        node.node?.membership.on(event, t => {
          const target = indexOf.get(t.member.id)
          if (t.to !== 'alive' && target != null && sideOf(target) === sideOf(node.opts.index)) ownSideDoubts.push(`n${node.opts.index} saw n${target} ${t.to} (${t.cause})`)
        })
      }
    }

    // Not awaited: the cut must be in force before anything else runs.
    const applied = nemesis.apply({ f: 'partition', shape: 'halves', grudge: completeGrudge(SIDES) })
    for (const node of nodes) {
      const across = (node.node?.libp2p.getConnections() ?? [])
        .filter(c => c.status === 'open' && sideOf(indexOf.get(c.remotePeer.toString()) ?? -1) !== sideOf(node.opts.index))
        .map(c => `to n${indexOf.get(c.remotePeer.toString())}`)
      expect(across, `n${node.opts.index}'s connections across the cut`).toEqual([])
      expect(node.blocklist.list().length).toBe(3)
    }
    await applied

    // Each side sees the other dead; meanwhile nobody doubted a member of its own side.
    const crossDead = (): boolean => nodes.every(a => nodes.every(b => sideOf(a.opts.index) === sideOf(b.opts.index) || a.node?.membership.member(b.peerId)?.state === 'dead'))
    await waitUntil('each side to see the other dead', crossDead, 30_000)
    expect(ownSideDoubts).toEqual([])
    // The cut refused what tried to cross it.
    await nemesis.apply({ f: 'heal' })
    const heal = history.events.find(e => e.type === 'nemesis' && e.fault.f === 'heal')
    expect(heal?.type === 'nemesis' ? heal.effect?.closedConnections : 0).toBeGreaterThan(0)
    await waitUntil('every node to see every other alive after the heal', () => nodes.every(a => nodes.every(b => a === b || a.node?.membership.member(b.peerId)?.state === 'alive')), 60_000)
  }, 120_000)
})
