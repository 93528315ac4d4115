import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Message } from '@libp2p/gossipsub'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { createMeshLibp2p, type MeshLibp2p } from '../../node/libp2p/create-libp2p.ts'
import {
  decodeMembershipMessage, encodeMembershipMessage, MEMBERSHIP_TOPIC, MEMBERSHIP_WIRE_VERSION, type Heartbeat
} from '../../protocols/membership/index.ts'
import { counter } from '../utils/chat-mesh.ts'
import { MeshProcess, waitUntil } from '../utils/mesh-process.ts'

/**
 * A hostile peer on the membership topic: an in-process libp2p node that signs what it
 * likes with its own key. The node drops and counts it, and the mesh keeps hearing it.
 */
describe('membership input a peer must not get through', () => {
  let node: MeshProcess | undefined
  let attacker: MeshLibp2p | undefined
  afterEach(async () => {
    await attacker?.stop()
    attacker = undefined
    await node?.destroy()
    node = undefined
  })

  it('a suspicion naming an absurd incarnation does not push the target past 2^53', async () => {
    node = await MeshProcess.start({ name: 'target', args: ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0'] })
    const target = node
    attacker = await createMeshLibp2p({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
    const pubsub = attacker.services.pubsub
    // Every copy of the target's heartbeats, as the rest of the mesh would get them (raw bytes:
    // the attacker has no validator, so a heartbeat that fails decoding arrives too).
    const beats: Uint8Array[] = []
    pubsub.addEventListener('message', (evt: CustomEvent<Message>) => {
      const msg = evt.detail
      if (msg.topic === MEMBERSHIP_TOPIC && msg.type === 'signed' && msg.from.toString() === target.id) beats.push(msg.data)
    })
    pubsub.subscribe(MEMBERSHIP_TOPIC)
    await attacker.dial(multiaddr(target.bootstrapAddr))
    await waitUntil('the attacker to see the node on the membership topic', async () =>
      pubsub.getSubscribers(MEMBERSHIP_TOPIC).some(p => p.toString() === target.id))
    await waitUntil('a first heartbeat', async () => beats.length > 0)
    const before = decodeMembershipMessage(beats[beats.length - 1]) as Heartbeat

    await pubsub.publish(MEMBERSHIP_TOPIC, encodeMembershipMessage({
      type: 'suspect', v: MEMBERSHIP_WIRE_VERSION, by: attacker.peerId.toString(), target: target.id, incarnation: Number.MAX_SAFE_INTEGER
    }))
    await waitUntil('the forged claim to be dropped and counted', async () =>
      await counter(target, 'mesh_membership_invalid_total', 'reason=implausible-incarnation') === 1)

    // The heartbeats that follow are still valid, at the incarnation the node had.
    const seen = beats.length
    await waitUntil('two more heartbeats', async () => beats.length >= seen + 2)
    for (const bytes of beats.slice(seen)) {
      const hb = decodeMembershipMessage(bytes) as Heartbeat
      expect(hb.incarnation).toBe(before.incarnation)
    }
  })
})
