import { afterEach, describe, expect, it } from 'vitest'
import { block, history, restartNode, sayMany, startChatMesh, unblock, waitForEqualHistories } from '../utils/chat-mesh.ts'
import { type MeshProcess, sees, waitUntil } from '../utils/mesh-process.ts'

/**
 * What gossip alone cannot do: messages published while a node could not hear them (a cut
 * network, a stopped node) reach it afterwards through anti-entropy, once and in order.
 */
describe('chat anti-entropy across real processes', () => {
  let nodes: MeshProcess[] = []
  afterEach(async () => {
    await Promise.all(nodes.map(async n => { await n.destroy() }))
    nodes = []
  })

  it('partition and heal: messages from both sides end on every node, none lost, none twice', async () => {
    nodes = await startChatMesh(['a1', 'a2', 'b1', 'b2'])
    const [a1, a2, b1, b2] = nodes
    const left = [a1, a2]
    const right = [b1, b2]
    await waitUntil('every node to see every node alive', async () => {
      for (const n of nodes) if ((await n.peers()).members.filter(m => m.state === 'alive').length !== nodes.length) return false
      return true
    }, 20_000, 100)
    await sayMany(a1, ['before the cut'])
    await waitForEqualHistories(nodes, 1)

    for (const n of left) await block(n, right)
    for (const n of right) await block(n, left)
    await waitUntil('each side to see the other dead', async () => {
      for (const [observer, others] of [[a1, right], [a2, right], [b1, left], [b2, left]] as const) {
        for (const other of others) if (!await sees(observer, other, 'dead')) return false
      }
      return true
    }, 20_000, 100)

    await Promise.all([
      sayMany(a1, Array.from({ length: 40 }, (_, i) => `left a1 ${i}`)),
      sayMany(a2, Array.from({ length: 20 }, (_, i) => `left a2 ${i}`)),
      sayMany(b1, Array.from({ length: 30 }, (_, i) => `right b1 ${i}`)),
      sayMany(b2, Array.from({ length: 10 }, (_, i) => `right b2 ${i}`))
    ])
    // The cut held: each side has only its own side's messages.
    await waitForEqualHistories(left, 61)
    await waitForEqualHistories(right, 41)

    for (const n of left) await unblock(n, right)
    for (const n of right) await unblock(n, left)
    const all = await waitForEqualHistories(nodes, 101, undefined, 30_000)
    expect(new Set(all.map(m => m.id)).size).toBe(101)
    expect(all.filter(m => m.text.startsWith('left')).length).toBe(60)
    expect(all.filter(m => m.text.startsWith('right')).length).toBe(40)
  })

  it('a stopped node shows, once restarted, what it missed', async () => {
    nodes = await startChatMesh(['alice', 'bob', 'carol'])
    const [alice, bob, carol] = nodes
    await sayMany(alice, ['everyone is here'])
    await waitForEqualHistories(nodes, 1)

    carol.signal('SIGTERM')
    expect(await carol.waitForExit()).toBe(0)
    await sayMany(alice, Array.from({ length: 25 }, (_, i) => `alice ${i}`))
    await sayMany(bob, Array.from({ length: 25 }, (_, i) => `bob ${i}`))
    await waitForEqualHistories([alice, bob], 51)

    const again = await restartNode(carol, alice)
    nodes = [alice, bob, again]
    const all = await waitForEqualHistories(nodes, 51)
    expect(all.map(m => m.text)).toContain('bob 24')
    // Its own history was kept across the restart, and the room too.
    expect((await history(again))[0].text).toBe('everyone is here')
  })
})
