import { callNode } from '../../cli/control-client.ts'
import { afterEach, describe, expect, it } from 'vitest'
import { history, restartNode, startChatMesh } from '../utils/chat-mesh.ts'
import { counter, type MeshProcess, sees, waitUntil } from '../utils/mesh-process.ts'

describe('direct messages across real processes', () => {
  let nodes: MeshProcess[] = []
  afterEach(async () => {
    await Promise.all(nodes.map(async n => { await n.destroy() }))
    nodes = []
  })

  it('is delivered at once to a peer that is there, and shown as its own conversation', async () => {
    nodes = await startChatMesh(['alice', 'bob'])
    const [alice, bob] = nodes
    await waitUntil('alice to see bob', async () => await sees(alice, bob, 'alive'))
    const sent = await callNode(alice.home, 'chat.dm', { to: 'bob', text: 'just for you' })
    expect(sent.delivered).toBe(true)
    const onBob = await history(bob, { dm: 'alice' })
    expect(onBob.map(m => m.text)).toEqual(['just for you'])
    expect((await history(alice, { room: '@bob' })).map(m => m.id)).toEqual([sent.id])
    // Not in any room.
    expect((await history(bob)).length).toBe(0)
  })

  it('waits in the outbox while the peer is away, across a restart of the sender', async () => {
    nodes = await startChatMesh(['alice', 'bob', 'carol'])
    const [alice, bob, carol] = nodes
    await waitUntil('alice to see bob', async () => await sees(alice, bob, 'alive'))
    bob.signal('SIGTERM')
    await bob.waitForExit()
    await waitUntil('alice to see bob left', async () => await sees(alice, bob, 'left'))

    const first = await callNode(alice.home, 'chat.dm', { to: 'bob', text: 'are you there?' })
    const second = await callNode(alice.home, 'chat.dm', { to: 'bob', text: 'second, in order' })
    expect(first.delivered).toBe(false)
    expect(second.delivered).toBe(false)

    // The sender restarts while the recipient is still away: the restarted node finds both
    // DMs in its outbox and tries (and fails) to deliver them before bob is back.
    alice.signal('SIGTERM')
    await alice.waitForExit()
    const alice2 = await restartNode(alice, carol)
    nodes = [alice2, bob, carol]
    await waitUntil('the restarted alice to retry bob from her outbox', async () =>
      await counter(alice2, 'mesh_chat_dm_total', 'outcome=retry') >= 1, 15_000, 100)

    const bob2 = await restartNode(bob, carol)
    nodes = [alice2, bob2, carol]
    await waitUntil('bob to have both DMs', async () => (await history(bob2, { dm: 'alice' })).length === 2, 20_000, 100)
    expect((await history(bob2, { dm: 'alice' })).map(m => m.text)).toEqual(['are you there?', 'second, in order'])
    await waitUntil('alice\'s outbox to be empty', async () => {
      const stats = await callNode(alice2.home, 'stats')
      return stats.metrics.mesh_chat_outbox?.total === 0
    }, 10_000, 100)
  })
})
