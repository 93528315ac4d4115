import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey, Stream } from '@libp2p/interface'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { createMeshLibp2p, type MeshLibp2p } from '../../node/libp2p/create-libp2p.ts'
import { CHAT_PUSH_PROTOCOL, chatTopic, MAX_PUSH_BATCH, MAX_PUSH_FRAME_BYTES, type UnsignedChatMessage } from '../../protocols/chat/index.ts'
import { counter, history, say, startChatMesh } from '../utils/chat-mesh.ts'
import { forgedChatMessage } from '../utils/hostile-peer.ts'
import { type MeshProcess, waitUntil } from '../utils/mesh-process.ts'

const TOPIC = chatTopic('lobby')
/** Garbage frames sent back to back: far more than the per-peer frame budget (400 at once). */
const FLOOD = 3000

/**
 * A hostile peer (an in-process libp2p node with none of the node's checks) speaks the chat
 * push protocol to a node of a two-node mesh: garbage, forged and oversized frames, a flood,
 * many streams at once. Each is dropped and counted, and the two nodes keep chatting by push.
 */
describe('chat push from a hostile peer', () => {
  let nodes: MeshProcess[] = []
  let attacker: MeshLibp2p | undefined
  let attackerKey: PrivateKey
  afterEach(async () => {
    await attacker?.stop()
    attacker = undefined
    await Promise.all(nodes.map(async n => { await n.destroy() }))
    nodes = []
  })

  const dropped = async (node: MeshProcess, reason: string): Promise<number> => await counter(node, 'mesh_chat_dropped_total', `via=push,reason=${reason}`)

  /** A push frame around wire messages given as bytes. */
  function frame (messages: Uint8Array[]): Uint8Array {
    return new TextEncoder().encode(`{"v":1,"messages":[${messages.map(m => new TextDecoder().decode(m)).join(',')}]}`)
  }

  async function forge (fields: Partial<UnsignedChatMessage>): Promise<Uint8Array> {
    return await forgedChatMessage(attackerKey, fields)
  }

  async function openPush (target: MeshProcess): Promise<{ stream: Stream, lp: LengthPrefixedStream<Stream> }> {
    const stream = await attacker!.dialProtocol(multiaddr(target.bootstrapAddr), CHAT_PUSH_PROTOCOL)
    return { stream, lp: lpStream(stream, { maxDataLength: 4 * MAX_PUSH_FRAME_BYTES }) }
  }

  it('garbage, forged, oversized and flooding frames are dropped and counted; the mesh keeps chatting', async () => {
    nodes = await startChatMesh(['alice', 'bob'])
    const [alice, bob] = nodes
    // Until bob has seen alice join the room, his messages wait for anti-entropy: say until
    // one goes by push.
    await waitUntil('a message of bob\'s at alice by push', async () => {
      await say(bob, 'before')
      return await counter(alice, 'mesh_chat_messages_total', 'via=push') >= 1
    }, 20_000, 300)

    attackerKey = await generateKeyPair('Ed25519')
    attacker = await createMeshLibp2p({ privateKey: attackerKey, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
    attacker.services.pubsub.subscribe(TOPIC)
    const { lp } = await openPush(alice)

    // Not JSON; a frame of one message too many; a message claiming bob as its author; one
    // whose text was changed after signing; and one signed by the attacker, valid as it is.
    await lp.write(new TextEncoder().encode('\u0000 not json'))
    const honest = await forge({ seq: 1, text: 'the attacker may speak for itself' })
    await lp.write(frame(Array.from({ length: MAX_PUSH_BATCH + 1 }, () => honest)))
    await lp.write(frame([await forge({ from: bob.id, nick: 'bob', seq: 1, text: 'I am bob' })]))
    const tampered = JSON.parse(new TextDecoder().decode(await forge({ seq: 2, text: 'signed' })))
    tampered.text = 'tampered'
    await lp.write(frame([new TextEncoder().encode(JSON.stringify(tampered)), honest]))
    await waitUntil('each bad frame and message counted', async () =>
      await dropped(alice, 'bad-json') === 1 && await dropped(alice, 'too-large') === 1 &&
      await dropped(alice, 'forged-sender') === 1 && await dropped(alice, 'bad-signature') === 1, 10_000, 100)
    await waitUntil('the attacker\'s own valid message stored', async () =>
      (await history(alice)).some(m => m.text === 'the attacker may speak for itself'), 10_000, 100)

    // A flood of garbage frames: past the budget they are dropped before they are parsed.
    for (let i = 0; i < FLOOD; i++) await lp.write(new TextEncoder().encode(`garbage ${i}`))
    await waitUntil(`all ${FLOOD} flood frames counted`, async () =>
      await dropped(alice, 'bad-json') + await dropped(alice, 'over-budget') === 1 + FLOOD, 20_000, 100)
    expect(await dropped(alice, 'over-budget')).toBeGreaterThan(0)

    // A frame longer than the limit: refused at its length prefix, the stream closed.
    await lp.write(new Uint8Array(MAX_PUSH_FRAME_BYTES + 1).fill(0x20))
    await waitUntil('the oversized frame counted', async () => await dropped(alice, 'too-large') === 2, 10_000, 100)

    // Many streams opened one after another: each replaces the last, so only the newest is
    // read, and what was written on a replaced one is never stored.
    const opened: Array<{ lp: LengthPrefixedStream<Stream>, seq: number }> = []
    for (let i = 0; i < 10; i++) {
      try { opened.push({ lp: (await openPush(alice)).lp, seq: 10 + i }) } catch {}
    }
    expect(opened.length).toBeGreaterThan(0)
    await Promise.allSettled(opened.map(async o => { await o.lp.write(frame([await forge({ seq: o.seq, text: `stream ${o.seq}` })])) }))
    const last = opened.at(-1)!
    await waitUntil('the newest stream\'s message stored', async () => (await history(alice)).some(m => m.text === `stream ${last.seq}`), 10_000, 100)
    expect((await history(alice)).filter(m => m.text.startsWith('stream ')).map(m => m.text)).toEqual([`stream ${last.seq}`])

    // Both nodes still chat, by push, and nothing forged or tampered is in either history.
    const pushedBefore = await counter(alice, 'mesh_chat_messages_total', 'via=push')
    await say(bob, 'after')
    await say(alice, 'after too')
    await waitUntil('both messages on both nodes', async () =>
      (await history(alice)).some(m => m.text === 'after') && (await history(bob)).some(m => m.text === 'after too'), 10_000, 100)
    expect(await counter(alice, 'mesh_chat_messages_total', 'via=push')).toBe(pushedBefore + 1)
    for (const node of nodes) {
      const texts = (await history(node)).map(m => m.text)
      expect(texts).not.toContain('I am bob')
      expect(texts).not.toContain('tampered')
    }
  })
})
