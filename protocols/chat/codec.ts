import { createHash, sign, verify } from 'node:crypto'
import type { PrivateKey } from '@libp2p/interface'
import { isRecord, parseJsonBytes } from '../json.ts'
import { isValidNick, MAX_NICK_LENGTH } from '../names.ts'
import {
  CHAT_TOPIC_PREFIX, CHAT_TOPIC_SUFFIX, CHAT_WIRE_VERSION, MAX_CHAT_MESSAGE_BYTES, MAX_LOGICAL,
  MAX_ROOM_LENGTH, MAX_TEXT_BYTES, ROOM_PATTERN
} from './constants.ts'
import { InvalidChatMessageError } from './errors.ts'
import { checkRoom } from './room.ts'
import { check, fail, peerId, uint } from './fields.ts'
import { ChatKeyCache } from './key-cache.ts'
import type { ChatMessage, UnsignedChatMessage, WireChatMessage } from './messages.ts'

const encoder = new TextEncoder()

export function chatTopic (room: string): string {
  return `${CHAT_TOPIC_PREFIX}${checkRoom(room)}${CHAT_TOPIC_SUFFIX}`
}

/** The room of a chat topic, or undefined for any other topic. */
export function roomOfTopic (topic: string): string | undefined {
  if (!topic.startsWith(CHAT_TOPIC_PREFIX) || !topic.endsWith(CHAT_TOPIC_SUFFIX)) return undefined
  const room = topic.slice(CHAT_TOPIC_PREFIX.length, -CHAT_TOPIC_SUFFIX.length)
  return room.length > 0 && room.length <= MAX_ROOM_LENGTH && ROOM_PATTERN.test(room) ? room : undefined
}

/** The bytes that are hashed (content id) and signed: a fixed field order, no whitespace. */
export function canonicalBytes (m: UnsignedChatMessage): Uint8Array {
  return encoder.encode(JSON.stringify([m.v, m.room, m.to ?? '', m.from, m.nick, m.ts, m.lc, m.seq, m.text]))
}

/** 128 bits of SHA-256: collisions are out of reach, and the id stays short in logs. */
export function contentId (m: UnsignedChatMessage): string {
  return createHash('sha256').update(canonicalBytes(m)).digest('hex').slice(0, 32)
}

/**
 * Validates the fields, signs with the author's key and computes the id. `keys` keeps the
 * parsed key for the next message; without it the key is parsed for this call only.
 */
export async function signChatMessage (unsigned: UnsignedChatMessage, key: PrivateKey, keys = new ChatKeyCache()): Promise<ChatMessage> {
  const checked = validateFields(unsigned as unknown as Record<string, unknown>)
  const bytes = canonicalBytes(checked)
  const nodeKey = keys.privateKeyObject(key)
  const sig = Buffer.from(nodeKey != null ? sign(null, bytes, nodeKey) : await key.sign(bytes)).toString('base64')
  return { ...checked, sig, id: contentId(checked) }
}

/** True when `sig` is the author's Ed25519 signature of the message. */
export async function verifyChatSignature (m: ChatMessage, keys = new ChatKeyCache()): Promise<boolean> {
  const publicKey = keys.publicKey(m.from)
  if (publicKey == null) return false
  const sig = Buffer.from(m.sig, 'base64')
  if (sig.byteLength !== 64) return false
  if (publicKey.type === 'Ed25519') {
    return verify(null, canonicalBytes(m), keys.publicKeyObject(m.from, publicKey), sig)
  }
  return await publicKey.verify(canonicalBytes(m), sig)
}

export function toWire (m: ChatMessage): WireChatMessage {
  return { v: m.v, room: m.room, to: m.to, from: m.from, nick: m.nick, ts: m.ts, lc: m.lc, seq: m.seq, text: m.text, sig: m.sig }
}

export function encodeChatMessage (m: ChatMessage): Uint8Array {
  const bytes = encoder.encode(JSON.stringify(toWire(m)))
  if (bytes.byteLength > MAX_CHAT_MESSAGE_BYTES) fail('too-large', `chat message of ${bytes.byteLength} bytes exceeds ${MAX_CHAT_MESSAGE_BYTES}`)
  return bytes
}

/** Decodes bytes from the wire: size, UTF-8, JSON, then every field. Does not verify the signature. */
export function decodeChatMessage (bytes: Uint8Array): ChatMessage {
  if (bytes.byteLength > MAX_CHAT_MESSAGE_BYTES) fail('too-large', `${bytes.byteLength} bytes exceeds ${MAX_CHAT_MESSAGE_BYTES}`)
  return decodeChatObject(parseJsonBytes(bytes, fail))
}

/** Validates a message already parsed from JSON (as inside a sync batch). */
/**
 * The room messages of a batch (a push frame, a sync answer): each bad one dropped alone with
 * its reason, so one bad message does not cost the batch; a direct message has no place in a
 * room batch.
 */
export function decodeRoomMessages (items: readonly unknown[], batch: 'push' | 'sync'): { messages: ChatMessage[], rejected: InvalidChatMessageError[] } {
  const messages: ChatMessage[] = []
  const rejected: InvalidChatMessageError[] = []
  for (const item of items) {
    try {
      const message = decodeChatObject(item)
      if (message.to != null) throw new InvalidChatMessageError('bad-field', `a direct message has no place in a room ${batch}`)
      messages.push(message)
    } catch (err) {
      if (!(err instanceof InvalidChatMessageError)) throw err
      rejected.push(err)
    }
  }
  return { messages, rejected }
}

export function decodeChatObject (raw: unknown): ChatMessage {
  if (!isRecord(raw)) fail('bad-shape', 'a chat message is a JSON object')
  const fields = validateFields(raw)
  const sig = raw.sig
  if (typeof sig !== 'string' || sig.length !== 88 || !/^[A-Za-z0-9+/]+=*$/.test(sig)) fail('bad-field', 'sig must be a base64 Ed25519 signature')
  return { ...fields, sig, id: contentId(fields) }
}

function validateFields (raw: Record<string, unknown>): UnsignedChatMessage {
  if (raw.v !== CHAT_WIRE_VERSION) fail('bad-version', `unsupported wire version ${String(raw.v)?.slice(0, 20)}`)
  const to = raw.to == null ? null : peerId(raw.to, 'to')
  const room = check.string(raw.room, 'room', MAX_ROOM_LENGTH)
  if (to == null && (room === '' || !ROOM_PATTERN.test(room))) fail('bad-field', 'room is not a room name')
  if (to != null && room !== '') fail('bad-field', 'a direct message has no room')
  const seq = uint(raw.seq, 'seq')
  if (to == null && seq < 1) fail('bad-field', 'a room message has seq from 1')
  if (to != null && seq !== 0) fail('bad-field', 'a direct message has seq 0')
  const nick = raw.nick
  if (typeof nick !== 'string' || !isValidNick(nick)) fail('bad-field', `nick must be 1 to ${MAX_NICK_LENGTH} characters, without spaces or control characters`)
  const text = raw.text
  if (typeof text !== 'string') fail('bad-field', 'text must be a string')
  // A lone surrogate would come out as U+FFFD on the next hop: not the text that was signed.
  if (!text.isWellFormed()) fail('bad-utf8', 'text is not well-formed Unicode')
  const textBytes = Buffer.byteLength(text)
  if (textBytes === 0) fail('bad-field', 'text is empty')
  if (textBytes > MAX_TEXT_BYTES) fail('text-too-long', `text of ${textBytes} bytes exceeds ${MAX_TEXT_BYTES}`)
  return {
    v: CHAT_WIRE_VERSION,
    room,
    to,
    from: peerId(raw.from, 'from'),
    nick,
    ts: uint(raw.ts, 'ts'),
    lc: uint(raw.lc, 'lc', MAX_LOGICAL),
    seq,
    text
  }
}
