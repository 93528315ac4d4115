import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  decodePushFrame, InvalidChatMessageError, MAX_PUSH_BATCH, MAX_PUSH_FRAME_BYTES, MAX_TEXT_BYTES, pushItem,
  signChatMessage, takePushFrame, type ChatMessage
} from '../../../protocols/chat/index.ts'

let key: PrivateKey
let self: string

beforeAll(async () => {
  key = await generateKeyPair('Ed25519')
  self = peerIdFromPrivateKey(key).toString()
})

async function message (seq: number, text = `m${seq}`, to: string | null = null): Promise<ChatMessage> {
  return await signChatMessage({ v: 1, room: to == null ? 'lobby' : '', to, from: self, nick: 'alice', ts: 1_700_000_000_000, lc: 0, seq, text }, key)
}

describe('push frames', () => {
  it('a queue is cut into frames of at most MAX_PUSH_BATCH messages that decode to the same messages, in order', async () => {
    const sent = await Promise.all(Array.from({ length: MAX_PUSH_BATCH + 5 }, async (_, i) => await message(i + 1)))
    const queue = sent.map(pushItem)
    const first = takePushFrame(queue)
    const second = takePushFrame(queue)
    expect(queue).toHaveLength(0)
    expect(first.items).toHaveLength(MAX_PUSH_BATCH)
    expect(second.items).toHaveLength(5)
    const decoded = [...decodePushFrame(first.frame).messages, ...decodePushFrame(second.frame).messages]
    expect(decoded).toEqual(sent)
  })

  it('a frame stays within MAX_PUSH_FRAME_BYTES: large messages go fewer to a frame', async () => {
    // Control characters grow sixfold in JSON: each of these is about 24 KiB on the wire.
    const big = await Promise.all(Array.from({ length: 30 }, async (_, i) => await message(i + 1, '\u0001'.repeat(MAX_TEXT_BYTES))))
    const queue = big.map(pushItem)
    let frames = 0
    while (queue.length > 0) {
      const { frame, items } = takePushFrame(queue)
      expect(frame.byteLength).toBeLessThanOrEqual(MAX_PUSH_FRAME_BYTES)
      expect(items.length).toBeGreaterThan(0)
      frames++
    }
    expect(frames).toBeGreaterThan(1)
  })

  it('a frame of too many messages is refused whole; a bad or direct message inside one is dropped alone', async () => {
    const one = pushItem(await message(1)).json
    const tooMany = new TextEncoder().encode(`{"v":1,"messages":[${Array(MAX_PUSH_BATCH + 1).fill(one).join(',')}]}`)
    expect(() => decodePushFrame(tooMany)).toThrow(InvalidChatMessageError)
    const dm = pushItem(await message(0, 'psst', self)).json
    const mixed = decodePushFrame(new TextEncoder().encode(`{"v":1,"messages":[${one},{"v":1},${dm}]}`))
    expect(mixed.messages.map(m => m.seq)).toEqual([1])
    expect(mixed.rejected).toHaveLength(2)
    for (const bad of ['not json', '[]', '{"v":2,"messages":[]}', '{"v":1,"messages":{}}']) {
      expect(() => decodePushFrame(new TextEncoder().encode(bad))).toThrow(InvalidChatMessageError)
    }
  })
})
