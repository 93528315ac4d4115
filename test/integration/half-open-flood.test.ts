import { afterEach, describe, expect, it } from 'vitest'
import { holdHalfOpen } from '../utils/hostile-peer.ts'
import { counter, MeshProcess, sees, waitUntil } from '../utils/mesh-process.ts'

/** Well beyond libp2p's default of 10 handshakes in progress in total. */
const HALF_OPEN = 40

/**
 * Connections that open and never finish their handshake, all from one address (127.0.0.2,
 * still this machine's loopback), held open and reopened as the node closes them. A node on
 * another address (127.0.0.1) must still join.
 */
describe('a flood of half-open connections from one address', () => {
  let nodes: MeshProcess[] = []
  let flood: ReturnType<typeof holdHalfOpen> | undefined
  afterEach(async () => {
    flood?.stop()
    flood = undefined
    await Promise.all(nodes.map(async n => { await n.destroy() }))
    nodes = []
  })

  it('does not stop a node on another address from joining', async () => {
    const alice = await MeshProcess.start({ name: 'alice' })
    nodes.push(alice)
    const port = Number(alice.bootstrapAddr.split('/tcp/')[1].split('/')[0])
    flood = holdHalfOpen('127.0.0.1', port, '127.0.0.2', HALF_OPEN)
    await waitUntil('the flood to be refused over its share', async () =>
      await counter(alice, 'mesh_connections_refused_total', 'reason=pending-per-host') > 0, 10_000)

    const bob = await MeshProcess.start({ name: 'bob', bootstrap: [alice.bootstrapAddr] })
    nodes.push(bob)
    await waitUntil('alice and bob to see each other alive, the flood still on', async () =>
      await sees(alice, bob, 'alive') && await sees(bob, alice, 'alive'), 20_000)
    expect(flood.open()).toBeGreaterThan(0)
  })
})
