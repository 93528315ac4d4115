import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { createMeshLibp2p, type MeshLibp2p } from '../../node/libp2p/create-libp2p.ts'
import { CHAT_DM_PROTOCOL, chatTopic, decodeDmAck, MAX_LOGICAL, type UnsignedChatMessage } from '../../protocols/chat/index.ts'
import { counter, history, say, startChatMesh } from '../utils/chat-mesh.ts'
import { forgedChatMessage } from '../utils/hostile-peer.ts'
import { type MeshProcess, waitUntil } from '../utils/mesh-process.ts'
import { runMesh } from '../utils/run-mesh.ts'

const TOPIC = chatTopic('lobby')
/**
 * What a node takes from one author by default: its own send pace is 50 messages a second,
 * and it accepts twice that from a peer, with a burst of four times that after a quiet spell.
 */
const RECEIVE_RATE_PER_SECOND = 100
const RECEIVE_BURST = 200
const FLOOD = 1000

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
    return await forgedChatMessage(attackerKey, fields)
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

    // A flood: far more than the per-peer rate allows in the time it takes. Signed first, so
    // the messages leave together and the node's rate limiter sees a real burst.
    const flood = await Promise.all(Array.from({ length: FLOOD }, async (_, i) => await forge({ text: `flood ${i}`, seq: 10 + i })))
    const started = Date.now()
    await Promise.all(flood.map(async data => await pubsub.publish(TOPIC, data)))
    // Each flood message is valid, so it is either stored or dropped as over the rate, and
    // nothing else: wait until all of them are accounted for.
    const storedFlood = async (): Promise<number> => (await history(alice)).filter(m => m.text.startsWith('flood ')).length
    const rateLimited = async (): Promise<number> => await counter(alice, 'mesh_chat_dropped_total', 'reason=rate-limited')
    await waitUntil(`all ${FLOOD} flood messages stored or dropped`, async () => await storedFlood() + await rateLimited() === FLOOD, 15_000, 100)
    const elapsedMs = Date.now() - started

    const stored = (await history(alice)).filter(m => m.text.startsWith('flood '))
    // Every stored one is stored once.
    expect(new Set(stored.map(m => m.text)).size).toBe(stored.length)
    expect(await counter(alice, 'mesh_chat_duplicates_total')).toBe(0)
    expect(await counter(alice, 'mesh_chat_messages_total', 'via=gossip')).toBe(stored.length)
    // The rest was dropped and counted, once each.
    expect(await rateLimited()).toBe(FLOOD - stored.length)
    // As many as the rate allows, no more: a full bucket's burst, plus what refilled while the
    // flood was arriving (at most the time this test watched it).
    expect(stored.length).toBeGreaterThanOrEqual(RECEIVE_BURST)
    expect(stored.length).toBeLessThanOrEqual(RECEIVE_BURST + Math.ceil(RECEIVE_RATE_PER_SECOND * elapsedMs / 1000))
    expect(stored.length).toBeLessThan(FLOOD)
    // The invalid ones before the flood are still counted once each, and none was stored.
    expect(await counter(alice, 'mesh_chat_dropped_total', 'reason=text-too-long')).toBe(1)
    expect(await counter(alice, 'mesh_chat_dropped_total', 'reason=bad-utf8')).toBe(2)
    expect(await counter(alice, 'mesh_chat_dropped_total', 'reason=forged-sender')).toBe(1)

    // Alive and well: it still answers, stores its own messages, and nothing forged is in history.
    const own = await say(alice, 'still here')
    const all = await history(alice)
    expect(all.map(m => m.id)).toContain(own.id)
    expect(all.length).toBe(stored.length + 1)
    expect(all.some(m => m.text === 'I am alice' || m.text.startsWith('xxxx') || m.text.includes('surrogate'))).toBe(false)
  })

  it('a message dated ahead with its counter at the ceiling cannot stop chat; one far ahead is not stored', async () => {
    nodes = await startChatMesh(['alice'])
    const [alice] = nodes
    await connectAttacker(alice)
    const pubsub = attacker!.services.pubsub
    // Within the allowed skew, with the logical counter at its ceiling: the node's clock adopts
    // it, and its next tick must still be a timestamp every node accepts.
    await pubsub.publish(TOPIC, await forge({ ts: Date.now() + 55_000, lc: MAX_LOGICAL, seq: 1, text: 'ceiling' }))
    await waitUntil('the ceiling message stored', async () => (await history(alice)).some(m => m.text === 'ceiling'), 10_000, 100)
    const own = await say(alice, 'chat still works')
    expect(own.ts).toBeGreaterThanOrEqual((await history(alice)).find(m => m.text === 'ceiling')!.ts)
    // Beyond the skew (here the largest timestamp the codec allows): counted, never stored,
    // so it cannot sit at the end of every history.
    await pubsub.publish(TOPIC, await forge({ ts: Number.MAX_SAFE_INTEGER, seq: 2, text: 'from the far future' }))
    await waitUntil('the far-future message counted', async () =>
      await counter(alice, 'mesh_chat_dropped_total', 'reason=from-the-future') === 1, 10_000, 100)
    const texts = (await history(alice)).map(m => m.text)
    expect(texts).not.toContain('from the far future')
    expect(texts.at(-1)).toBe('chat still works')

    // The same as a DM: refused with a reason that tells the sender to try again later (its
    // clock may merely run ahead), not as invalid for good.
    const stream = await attacker!.dialProtocol(multiaddr(alice.bootstrapAddr), CHAT_DM_PROTOCOL)
    const lp = lpStream(stream)
    await lp.write(await forge({ room: '', to: alice.id, ts: Date.now() + 3_600_000, seq: 0, text: 'an hour early' }))
    const ack = decodeDmAck((await lp.read({ signal: AbortSignal.timeout(5000) })).subarray())
    expect(ack).toMatchObject({ ok: false, reason: 'from-the-future' })
    expect(await counter(alice, 'mesh_chat_dropped_total', 'reason=from-the-future')).toBe(2)
  })

  it('a second peer taking a nick is shown apart from the first, as nick#suffix', async () => {
    nodes = await startChatMesh(['alice'])
    const [alice] = nodes
    await connectAttacker(alice)
    const own = await say(alice, 'the real alice')
    await attacker!.services.pubsub.publish(TOPIC, await forge({ nick: 'alice', seq: 1, text: 'also alice, honest' }))
    await waitUntil('the impostor\'s message stored', async () => (await history(alice)).some(m => m.text === 'also alice, honest'), 10_000, 100)
    const shown = await history(alice)
    const real = shown.find(m => m.id === own.id)!
    const impostor = shown.find(m => m.text === 'also alice, honest')!
    expect(impostor.nick).toBe('alice')
    expect(impostor.label).toBe(`alice#${attacker!.peerId.toString().slice(-6)}`)
    expect(real.label).toBe(`alice#${alice.id.slice(-6)}`)
    const text = await runMesh(['chat', 'history', '--home', alice.home])
    expect(text.stdout).toContain(`alice#${attacker!.peerId.toString().slice(-6)}: also alice, honest`)
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
