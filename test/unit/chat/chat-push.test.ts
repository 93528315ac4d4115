import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Connection, PeerId, PrivateKey, Stream, StreamHandler } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { streamPair } from '@libp2p/utils'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ChatPush } from '../../../node/chat/chat-push.ts'
import { MeshMetrics } from '../../../node/metrics/metrics.ts'
import { FakeClock } from '../../../node/time/fake-clock.ts'
import { PUSH_IDLE_CLOSE_MS, PUSH_READ_TIMEOUT_MS, pushItem, signChatMessage, type ChatMessage } from '../../../protocols/chat/index.ts'
import { settle } from './fakes.ts'

/**
 * Two pushers joined by in-memory stream pairs: each dial of `a` lands in `b`'s handler as
 * an inbound stream from `a`. Time is the fake clock's, so idle and silent streams time out
 * when the test moves it.
 */
describe('ChatPush', () => {
  let clock: FakeClock
  let key: PrivateKey
  let aId: PeerId
  let bId: PeerId
  let a: ChatPush
  let b: ChatPush
  let bMetrics: MeshMetrics
  let received: ChatMessage[]
  let undelivered: ChatMessage[]
  let dials: number
  let reachable: boolean
  let outbound: Stream[]

  function pusher (metrics: MeshMetrics, handlers: Map<string, StreamHandler>, dial: () => Promise<Stream>): ChatPush {
    return new ChatPush({
      libp2p: {
        handle: async (protocol, handler) => { handlers.set(String(protocol), handler as StreamHandler) },
        unhandle: async protocol => { handlers.delete(String(protocol)) },
        dialProtocol: dial as any
      },
      metrics,
      clock
    }, {
      receive: async m => { received.push(m) },
      undelivered: ms => { undelivered.push(...ms) }
    })
  }

  beforeEach(async () => {
    clock = new FakeClock()
    key = await generateKeyPair('Ed25519')
    aId = peerIdFromPrivateKey(key)
    bId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    received = []
    undelivered = []
    dials = 0
    reachable = true
    outbound = []
    bMetrics = new MeshMetrics()
    const bHandlers = new Map<string, StreamHandler>()
    b = pusher(bMetrics, bHandlers, async () => { throw new Error('b dials nobody') })
    a = pusher(new MeshMetrics(), new Map(), async () => {
      dials++
      if (!reachable) throw new Error('protocol not supported')
      const [local, remote] = await streamPair()
      const handler = [...bHandlers.values()][0]
      void handler(remote, { remotePeer: aId } as unknown as Connection)
      outbound.push(local)
      return local
    })
    await b.start()
    await a.start()
  })

  afterEach(async () => {
    await a.stop()
    await b.stop()
  })

  async function message (seq: number): Promise<ChatMessage> {
    return await signChatMessage({ v: 1, room: 'lobby', to: null, from: aId.toString(), nick: 'alice', ts: clock.now(), lc: 0, seq, text: `m${seq}` }, key)
  }

  const framesIn = async (): Promise<number> => (await bMetrics.snapshot()).mesh_chat_push_frames_total?.['direction=in'] ?? 0

  it('messages sent in one turn go in one frame, in order; later ones in the next frame on the same stream', async () => {
    const first = await Promise.all([1, 2, 3].map(message))
    for (const m of first) a.send(pushItem(m), [bId])
    await settle()
    expect(received.map(m => m.seq)).toEqual([1, 2, 3])
    expect(await framesIn()).toBe(1)
    a.send(pushItem(await message(4)), [bId])
    await settle()
    expect(received.map(m => m.seq)).toEqual([1, 2, 3, 4])
    expect(await framesIn()).toBe(2)
    expect(dials).toBe(1)
  })

  it('an author closes a stream it has not used for a while and opens another when it speaks again', async () => {
    a.send(pushItem(await message(1)), [bId])
    await settle()
    await clock.advance(PUSH_IDLE_CLOSE_MS + 5000)
    await settle()
    expect(outbound[0].writeStatus).not.toBe('writable')
    a.send(pushItem(await message(2)), [bId])
    await settle()
    expect(dials).toBe(2)
    expect(received.map(m => m.seq)).toEqual([1, 2])
  })

  it('a stream silent past the read timeout, here mid-frame, is aborted by the receiver', async () => {
    const [local, remote] = await streamPair()
    // Half a frame: a length prefix of 100 bytes, then 10 of them.
    void (b as any).serve(remote, { remotePeer: aId }, new AbortController().signal)
    expect(remote.status).toBe('open')
    local.send(Uint8Array.from([100, ...new Array(10).fill(0x20)]))
    await settle()
    await clock.advance(PUSH_READ_TIMEOUT_MS + 5000)
    await settle()
    expect(remote.status).not.toBe('open')
  })

  it('a peer that cannot take a push stream gets the messages another way and is not tried again for a while', async () => {
    reachable = false
    const m = await message(1)
    a.send(pushItem(m), [bId])
    await settle()
    expect(undelivered).toEqual([m])
    expect(a.unreachable(bId.toString())).toBe(true)
    await clock.advance(31_000)
    expect(a.unreachable(bId.toString())).toBe(false)
  })
})
