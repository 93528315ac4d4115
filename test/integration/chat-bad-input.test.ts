import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { createMeshLibp2p, type MeshLibp2p } from '../../node/libp2p/create-libp2p.ts'
import { canonicalBytes, CHAT_DM_PROTOCOL, chatTopic, decodeDmAck, type UnsignedChatMessage } from '../../protocols/chat/index.ts'
import { counter, history, say, startChatMesh } from '../utils/chat-mesh.ts'
import { type MeshProcess, waitUntil } from '../utils/mesh-process.ts'

const encoder = new TextEncoder()
const TOPIC = chatTopic('lobby')

/**
 * A hostile peer (an in-process libp2p node that skips every check of its own) sends what
 * an honest one never would. The node drops and counts each kind, and keeps working.
 */
describe('chat input a peer must not get through', () => {
  let nodes: MeshProcess[] = []
  let attacker: MeshLibp2p | undefined
  let attackerKey: PrivateKey
  afterEach(async () => {
    await attacker?.stop()
    attacker = undefined
    await Promise.all(nodes.map(async n => { await n.destroy() }))
    nodes = []
  })

  /** A wire message signed by the attacker's key over whatever fields it likes. */
  async function forge (fields: Partial<UnsignedChatMessage>): Promise<Uint8Array> {
    const m: UnsignedChatMessage = { v: 1, room: 'lobby', to: null, from: attacker!.peerId.toString(), nick: 'mallory', ts: Date.now(), lc: 0, seq: 1, text: 'hi', ...fields }
    const sig = Buffer.from(await attackerKey.sign(canonicalBytes(m))).toString('base64')
    return encoder.encode(JSON.stringify({ ...m, sig }))
  }

  async function connectAttacker (target: MeshProcess): Promise<void> {
    attackerKey = await generateKeyPair('Ed25519')
    attacker = await createMeshLibp2p({ privateKey: attackerKey, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
    attacker.services.pubsub.subscribe(TOPIC)
    await attacker.dial(multiaddr(target.bootstrapAddr))
    await waitUntil('the attacker to see the node in the room', async () =>
      attacker!.services.pubsub.getSubscribers(TOPIC).some(p => p.toString() === target.id))
  }

  it('oversized text, invalid UTF-8, a forged sender and a flood are dropped and counted', async () => {
    nodes = await startChatMesh(['alice'])
    const [alice] = nodes
    await connectAttacker(alice)
    const pubsub = attacker!.services.pubsub

    await pubsub.publish(TOPIC, await forge({ text: 'x'.repeat(5000), seq: 1 }))
    await pubsub.publish(TOPIC, new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]))
    await pubsub.publish(TOPIC, await forge({ text: 'bad \ud800 surrogate', seq: 2 }))
    // Claims to be alice, but the gossip signature is mallory's.
    await pubsub.publish(TOPIC, await forge({ from: alice.id, nick: 'alice', text: 'I am alice', seq: 3 }))
    await waitUntil('four invalid messages counted', async () =>
      await counter(alice, 'mesh_chat_dropped_total', 'reason=text-too-long') === 1 &&
      await counter(alice, 'mesh_chat_dropped_total', 'reason=bad-utf8') === 2 &&
      await counter(alice, 'mesh_chat_dropped_total', 'reason=forged-sender') === 1, 10_000, 100)

    // A flood: far more than the per-peer rate allows in the time it takes.
    for (let i = 0; i < 1000; i++) await pubsub.publish(TOPIC, await forge({ text: `flood ${i}`, seq: 10 + i }))
    await waitUntil('the flood to be cut off', async () => await counter(alice, 'mesh_chat_dropped_total', 'reason=rate-limited') > 0, 10_000, 100)

    // Alive and well: it still answers, stores its own messages, and nothing forged is in history.
    const own = await say(alice, 'still here')
    const stored = await history(alice)
    expect(stored.map(m => m.id)).toContain(own.id)
    expect(stored.filter(m => m.text.startsWith('flood')).length).toBeLessThan(1000)
    expect(stored.some(m => m.text === 'I am alice' || m.text.startsWith('xxxx') || m.text.includes('surrogate'))).toBe(false)
  })

  it('a direct message that claims another sender is refused with a reason', async () => {
    nodes = await startChatMesh(['alice'])
    const [alice] = nodes
    await connectAttacker(alice)
    const stream = await attacker!.dialProtocol(multiaddr(alice.bootstrapAddr), CHAT_DM_PROTOCOL)
    const lp = lpStream(stream)
    await lp.write(await forge({ room: '', to: alice.id, from: '12D3KooWJQkj6W1TXFMBzdKvmi45va1Z2SWLVzUMnThDjYtgAo19', seq: 0, text: 'trust me' }))
    const ack = decodeDmAck((await lp.read({ signal: AbortSignal.timeout(5000) })).subarray())
    expect(ack.ok).toBe(false)
    expect(ack.reason).toBe('invalid')
    expect(await counter(alice, 'mesh_chat_dropped_total', 'reason=forged-sender')).toBe(1)
  })
})
