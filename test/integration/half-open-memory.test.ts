import { afterEach, describe, expect, it } from 'vitest'
import { callNode } from '../../cli/control-client.ts'
import { holdHalfOpen } from '../utils/hostile-peer.ts'
import { counter, MeshProcess, waitUntil } from '../utils/mesh-process.ts'

/**
 * What the old generation may be committed at under the flood: the node's live heap is about
 * 15 MB; held at 50% growth (cli/old-generation.ts) this test saw 21 MB, and with V8's own
 * growth (`MESH_OLD_GENERATION_GROWTH=default` in the environment) 65 MB.
 */
const OLD_SPACE_BOUND = 40 * 1024 * 1024

/** Refusals of the flood's handshakes over its host's share to wait for: about 20 s of it. */
const REFUSALS = 60

/**
 * Connections from one address that never finish their handshake, reopened as the node
 * closes them: hundreds a second, each of which libp2p builds a connection for before it is
 * refused. Their garbage must not make the node's heap grow for good.
 */
describe('a sustained flood of half-open connections', () => {
  let node: MeshProcess | undefined
  let flood: ReturnType<typeof holdHalfOpen> | undefined
  afterEach(async () => {
    flood?.stop()
    flood = undefined
    await node?.destroy()
    node = undefined
  })

  it('leaves the old generation bounded', async () => {
    node = await MeshProcess.start({ name: 'alice', env: { MESH_TEST_HOOKS: '1' } })
    const alice = node
    const port = Number(alice.bootstrapAddr.split('/tcp/')[1].split('/')[0])
    flood = holdHalfOpen('127.0.0.1', port, '127.0.0.2', 40)
    let largest = 0
    await waitUntil(`${REFUSALS} handshakes refused over the host's share`, async () => {
      const { heapSpaces } = await callNode<{ heapSpaces: Record<string, { size: number }> }>(alice.home, 'test.process', {})
      largest = Math.max(largest, heapSpaces.old_space.size)
      return await counter(alice, 'mesh_connections_refused_total', 'reason=pending-per-host') >= REFUSALS
    }, 90_000, 250)
    expect(largest).toBeLessThan(OLD_SPACE_BOUND)
  })
})
