import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { isValidNick, MAX_NICK_LENGTH } from '../../../protocols/names.ts'
import {
  canonicalBytes, ChatKeyCache, chatTopic, decodeChatMessage, decodeSyncRequest, decodeSyncResponse, encodeChatMessage,
  encodeSyncRequest, encodeSyncResponse, InvalidChatMessageError, MAX_SYNC_BATCH, MAX_TEXT_BYTES, roomOfTopic,
  signChatMessage, verifyChatSignature, type ChatMessage, type UnsignedChatMessage
} from '../../../protocols/chat/index.ts'
import type { PrivateKey } from '@libp2p/interface'

let key: PrivateKey
let self: string
let other: PrivateKey

beforeAll(async () => {
  key = await generateKeyPair('Ed25519')
  other = await generateKeyPair('Ed25519')
  self = peerIdFromPrivateKey(key).toString()
})

function unsigned (fields: Partial<UnsignedChatMessage> = {}): UnsignedChatMessage {
  return { v: 1, room: 'lobby', to: null, from: self, nick: 'alice', ts: 1_700_000_000_000, lc: 0, seq: 1, text: 'hello', ...fields }
}

const encoder = new TextEncoder()
function raw (fields: Record<string, unknown>): Uint8Array {
  return encoder.encode(JSON.stringify(fields))
}

function reasonOf (fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    if (err instanceof InvalidChatMessageError) return err.reason
    throw err
  }
  return 'accepted'
}

describe('chat message codec', () => {
  it('round-trips any valid text, and the signature holds', async () => {
    await fc.assert(fc.asyncProperty(
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 300 }),
      fc.nat({ max: 1000 }),
      fc.integer({ min: 1, max: 1e6 }),
      async (text, lc, seq) => {
        const m = await signChatMessage(unsigned({ text, lc, seq }), key)
        const back = decodeChatMessage(encodeChatMessage(m))
        expect(back).toEqual(m)
        expect(await verifyChatSignature(back)).toBe(true)
      }), { numRuns: 50 })
  })

  it('a changed field changes the id and breaks the signature', async () => {
    const m = await signChatMessage(unsigned(), key)
    for (const change of [{ text: 'hellO' }, { nick: 'mallory' }, { ts: m.ts + 1 }, { seq: 2 }, { room: 'other' }]) {
      const tampered = decodeChatMessage(raw({ ...m, id: undefined, ...change }))
      expect(tampered.id).not.toBe(m.id)
      expect(await verifyChatSignature(tampered)).toBe(false)
    }
  })

  it('a message signed by another key does not verify for the claimed sender', async () => {
    const sig = Buffer.from(await other.sign(canonicalBytes(unsigned()))).toString('base64')
    expect(await verifyChatSignature(decodeChatMessage(raw({ ...unsigned(), sig })))).toBe(false)
  })

  it('drops what breaks a limit, with a reason', async () => {
    const m = await signChatMessage(unsigned(), key)
    const wire = { ...m, id: undefined }
    expect(reasonOf(() => decodeChatMessage(raw({ ...wire, text: 'x'.repeat(MAX_TEXT_BYTES + 1) })))).toBe('text-too-long')
    expect(reasonOf(() => decodeChatMessage(raw({ ...wire, text: 'é'.repeat(MAX_TEXT_BYTES / 2) })))).toBe('accepted')
    expect(reasonOf(() => decodeChatMessage(raw({ ...wire, text: 'é'.repeat(MAX_TEXT_BYTES / 2 + 1) })))).toBe('text-too-long')
    expect(reasonOf(() => decodeChatMessage(new Uint8Array(40 * 1024)))).toBe('too-large')
    expect(reasonOf(() => decodeChatMessage(new Uint8Array([0x7b, 0xff, 0x7d])))).toBe('bad-utf8')
    expect(reasonOf(() => decodeChatMessage(raw({ ...wire, text: 'a\ud800b' })))).toBe('bad-utf8')
    expect(reasonOf(() => decodeChatMessage(raw({ ...wire, text: '' })))).toBe('bad-field')
    expect(reasonOf(() => decodeChatMessage(raw({ ...wire, room: 'a/b' })))).toBe('bad-field')
    expect(reasonOf(() => decodeChatMessage(raw({ ...wire, seq: 0 })))).toBe('bad-field')
    expect(reasonOf(() => decodeChatMessage(raw({ ...wire, from: 'not a peer id!' })))).toBe('bad-field')
    expect(reasonOf(() => decodeChatMessage(raw({ ...wire, v: 2 })))).toBe('bad-version')
    expect(reasonOf(() => decodeChatMessage(raw({ ...wire, sig: 'short' })))).toBe('bad-field')
    expect(reasonOf(() => decodeChatMessage(raw({ ...wire, to: self })))).toBe('bad-field')
    await expect(signChatMessage(unsigned({ text: 'x'.repeat(MAX_TEXT_BYTES + 1) }), key)).rejects.toThrow(InvalidChatMessageError)
  })

  it('takes a nick that membership takes: no spaces, no control characters', async () => {
    const wire = { ...await signChatMessage(unsigned(), key), id: undefined }
    for (const nick of ['bob', 'Zoë', 'زينب', '👩\u200d💻', 'x'.repeat(MAX_NICK_LENGTH)]) expect(reasonOf(() => decodeChatMessage(raw({ ...wire, nick })))).toBe('accepted')
    for (const nick of ['', 'x'.repeat(MAX_NICK_LENGTH + 1), 'bo b', 'bob\t', 'bob\u001b[2J', 'bob\u007f', 'bob\u009b31m', 'bob\u00a0', '\u202elamron', 'nor\u2066mal', 'bob\u200f']) {
      expect(isValidNick(nick), JSON.stringify(nick)).toBe(false)
      expect(reasonOf(() => decodeChatMessage(raw({ ...wire, nick }))), JSON.stringify(nick)).toBe('bad-field')
    }
  })

  it('never throws anything but InvalidChatMessageError on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 500 }), bytes => {
      expect(['accepted', 'too-large', 'bad-utf8', 'bad-json', 'bad-shape', 'bad-version', 'bad-field', 'text-too-long']).toContain(reasonOf(() => decodeChatMessage(bytes)))
    }))
    fc.assert(fc.property(fc.json(), json => {
      reasonOf(() => decodeChatMessage(encoder.encode(json)))
      reasonOf(() => decodeSyncRequest(encoder.encode(json)))
      reasonOf(() => decodeSyncResponse(encoder.encode(json)))
    }))
  })

  it('maps rooms to topics and back, and nothing else', () => {
    expect(chatTopic('lobby')).toBe('mesh/chat/lobby/1')
    expect(roomOfTopic('mesh/chat/dev.team/1')).toBe('dev.team')
    expect(roomOfTopic('mesh/membership/1')).toBeUndefined()
    expect(roomOfTopic('mesh/chat/a/b/1')).toBeUndefined()
    expect(() => chatTopic('bad room')).toThrow(/room/)
  })
})

describe('key cache', () => {
  it('belongs to one node: what one cache learned, another does not hold', async () => {
    const alice = new ChatKeyCache()
    const bob = new ChatKeyCache()
    const m = await signChatMessage(unsigned(), key, alice)
    expect(await verifyChatSignature(m, alice)).toBe(true)
    expect(alice.size).toBe(1)
    expect(bob.size).toBe(0)
    expect(await verifyChatSignature(m, bob)).toBe(true)
    expect(bob.size).toBe(1)
  })

  it('holds at most maxKeys senders, dropping the least recently used', async () => {
    const keys = new ChatKeyCache({ maxKeys: 2 })
    const ids = await Promise.all([0, 1, 2].map(async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()))
    const a = keys.publicKey(ids[0])
    const b = keys.publicKey(ids[1])
    expect(keys.publicKey(ids[0])).toBe(a)
    // a was used last, so b goes when c comes.
    const c = keys.publicKey(ids[2])
    expect(keys.size).toBe(2)
    expect(keys.publicKey(ids[0])).toBe(a)
    expect(keys.publicKey(ids[2])).toBe(c)
    expect(keys.publicKey(ids[1])).not.toBe(b)
    expect(keys.size).toBe(2)
    expect(() => new ChatKeyCache({ maxKeys: 0 })).toThrow(/maxKeys/)
  })
})

describe('sync frames', () => {
  it('round-trip a digest and a batch', async () => {
    const request = { v: 1, room: 'lobby', have: { [self]: 12 } }
    expect(decodeSyncRequest(encodeSyncRequest(request))).toEqual(request)
    const page = { ...request, after: self, until: self }
    expect(decodeSyncRequest(encodeSyncRequest(page))).toEqual(page)
    const m: ChatMessage = await signChatMessage(unsigned(), key)
    const response = decodeSyncResponse(encodeSyncResponse({ v: 1, messages: [m], more: true }))
    expect(response.messages).toEqual([m])
    expect(response.more).toBe(true)
  })

  it('drops an invalid message from a batch, keeps the rest', async () => {
    const good = await signChatMessage(unsigned(), key)
    const bytes = raw({ v: 1, more: false, messages: [{ ...good, id: undefined }, { ...good, id: undefined, text: '' }] })
    const response = decodeSyncResponse(bytes)
    expect(response.messages.map(m => m.id)).toEqual([good.id])
    expect(response.rejected.map(e => e.reason)).toEqual(['bad-field'])
  })

  it('refuses a batch over the count limit and a digest with a bad entry', () => {
    expect(reasonOf(() => decodeSyncResponse(raw({ v: 1, more: false, messages: new Array(MAX_SYNC_BATCH + 1).fill({}) })))).toBe('too-large')
    expect(reasonOf(() => decodeSyncRequest(raw({ v: 1, room: 'lobby', have: { [self]: -1 } })))).toBe('bad-field')
    expect(reasonOf(() => decodeSyncRequest(raw({ v: 1, room: 'lobby', have: { 'bad id': 1 } })))).toBe('bad-field')
    expect(reasonOf(() => decodeSyncRequest(raw({ v: 1, room: 'lobby', have: {}, after: 'bad id' })))).toBe('bad-field')
  })
})
