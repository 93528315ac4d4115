import { afterEach, describe, expect, it } from 'vitest'
import { callNode, streamFromNode } from '../../cli/control-client.ts'
import { startChatMesh } from '../utils/chat-mesh.ts'
import { type MeshProcess, sees, waitUntil } from '../utils/mesh-process.ts'

/** Join/leave notices tell a clean leave from a failure. */
describe('chat notices from membership', () => {
  let nodes: MeshProcess[] = []
  afterEach(async () => {
    await Promise.all(nodes.map(async n => { await n.destroy() }))
    nodes = []
  })

  it('"bob left" for a clean leave, "carol lost: …" for a crash', async () => {
    nodes = await startChatMesh(['alice', 'bob', 'carol'])
    const [alice, bob, carol] = nodes
    await waitUntil('alice to see both', async () => await sees(alice, bob, 'alive') && await sees(alice, carol, 'alive'))
    const controller = new AbortController()
    const notices: string[] = []
    const said: string[] = []
    const reading = (async () => {
      for await (const event of streamFromNode<any>(alice.home, 'chat.tail', {}, controller.signal)) {
        if (event.type === 'notice') notices.push(event.text)
        else if (typeof event.text === 'string') said.push(event.text)
      }
    })().catch(() => {})
    try {
      // Notices are live only: make sure the tail is subscribed before anyone leaves.
      await waitUntil('the tail to be subscribed', async () => {
        await callNode(alice.home, 'chat.send', { room: 'lobby', text: 'tail ready?' })
        return said.includes('tail ready?')
      }, 15_000, 300)
      bob.signal('SIGTERM')
      await waitUntil('the leave notice', async () => notices.includes('bob left'), 15_000, 50)
      carol.signal('SIGKILL')
      await waitUntil('the failure notice', async () => notices.some(n => n.startsWith('carol lost: ')), 30_000, 50)
      expect(notices.find(n => n.startsWith('carol'))).toMatch(/^carol lost: (no heartbeat|unreachable)$/)
      expect(notices.some(n => n.startsWith('bob lost'))).toBe(false)
    } finally {
      controller.abort()
      await reading
    }
  })
})
