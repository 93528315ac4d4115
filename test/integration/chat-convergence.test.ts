import { afterEach, describe, expect, it } from 'vitest'
import { compareMessages } from '../../protocols/chat/index.ts'
import { history, sayMany, startChatMesh, waitForEqualHistories } from '../utils/chat-mesh.ts'
import { type MeshProcess, waitUntil } from '../utils/mesh-process.ts'

/** Five real nodes, five senders: every node ends with every message once, in one order. */
describe('chat across five real processes', () => {
  let nodes: MeshProcess[] = []
  afterEach(async () => {
    await Promise.all(nodes.map(async n => { await n.destroy() }))
    nodes = []
  })

  it('1,000 messages from 5 senders: all on every node, once, in the same order', async () => {
    nodes = await startChatMesh(['n1', 'n2', 'n3', 'n4', 'n5'])
    await waitUntil('every node to see 4 peers alive', async () => {
      for (const n of nodes) if ((await n.peers()).members.filter(m => m.state === 'alive').length !== 5) return false
      return true
    }, 20_000, 100)

    await Promise.all(nodes.map(async (n, i) => {
      await sayMany(n, Array.from({ length: 200 }, (_, k) => `msg ${i}-${k}`))
    }))

    const messages = await waitForEqualHistories(nodes, 1000, undefined, 40_000)
    expect(new Set(messages.map(m => m.id)).size).toBe(1000)
    expect(new Set(messages.map(m => m.text)).size).toBe(1000)
    // The order is the HLC order, ties by id, and each sender's messages keep their order.
    const sorted = [...messages].sort(compareMessages)
    expect(messages.map(m => m.id)).toEqual(sorted.map(m => m.id))
    for (let i = 0; i < 5; i++) {
      const own = messages.filter(m => m.text.startsWith(`msg ${i}-`)).map(m => Number(m.text.split('-')[1]))
      expect(own).toEqual([...own].sort((a, b) => a - b))
    }
    // And a history read on another node gives exactly the same list.
    expect((await history(nodes[4])).map(m => m.id)).toEqual(messages.map(m => m.id))
  })
})
