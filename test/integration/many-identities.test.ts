import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { createMeshLibp2p } from '../../node/libp2p/create-libp2p.ts'
import { MEMBERSHIP_TOPIC } from '../../protocols/membership/index.ts'
import { MeshProcess, sees, startMesh, waitForHeartbeats, waitUntil } from '../utils/mesh-process.ts'

/** More than gossipsub's default allowance of 10 peers behind one IP address. */
const SHORT_LIVED_PEERS = 30

/**
 * Many identities from one host, as a LAN mesh sees them (a demo, a simulation, each
 * `mesh primes count` without a node makes a temporary node): they come, join the
 * membership topic and go. The mesh must stay whole and let the next honest node in.
 */
describe('a host that brings many short-lived identities', () => {
  let nodes: MeshProcess[] = []
  afterEach(async () => {
    await Promise.all(nodes.map(async n => { await n.destroy() }))
    nodes = []
  })

  it('does not partition that host: 30 come and go, then a new node joins and everyone stays alive', async () => {
    nodes = await startMesh(['alice', 'bob'])
    const [alice, bob] = nodes
    for (let i = 0; i < SHORT_LIVED_PEERS; i++) {
      const peer = await createMeshLibp2p({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
      peer.services.pubsub.subscribe(MEMBERSHIP_TOPIC)
      // libp2p refuses inbound connections from one host beyond a few a second: a new
      // identity comes back a moment later, as a user's next command would.
      await waitUntil(`short-lived peer ${i} to connect`, async () => await peer.dial(multiaddr(alice.bootstrapAddr)).then(() => true, () => false), 10_000, 200)
      await waitUntil(`short-lived peer ${i} to see alice on the topic`, async () =>
        peer.services.pubsub.getSubscribers(MEMBERSHIP_TOPIC).some(p => p.toString() === alice.id))
      await peer.stop()
    }
    const carol = await MeshProcess.start({ name: 'carol', bootstrap: [alice.bootstrapAddr] })
    nodes.push(carol)
    await waitUntil('everyone to see everyone alive', async () =>
      await sees(alice, carol, 'alive') && await sees(bob, carol, 'alive') &&
      await sees(carol, alice, 'alive') && await sees(carol, bob, 'alive') &&
      await sees(alice, bob, 'alive') && await sees(bob, alice, 'alive'), 20_000)
    // And it holds: a few heartbeats later nobody was suspected.
    await waitForHeartbeats([alice, bob, carol], 3)
    for (const [observer, target] of [[alice, carol], [bob, carol], [carol, alice], [carol, bob]] as const) {
      expect(await observer.stateOf(target.id)).toBe('alive')
    }
  })
})
