import { parseJsonObject } from '../json.ts'
import { CHAT_WIRE_VERSION, MAX_CHAT_MESSAGE_BYTES, MAX_PUSH_BATCH, MAX_PUSH_FRAME_BYTES } from './constants.ts'
import { decodeRoomMessages, toWire } from './codec.ts'
import type { InvalidChatMessageError } from './errors.ts'
import { fail } from './fields.ts'
import type { ChatMessage } from './messages.ts'

/** The frame around the messages: `{"v":1,"messages":[…]}`, so the bytes around them are known. */
const FRAME_HEAD = `{"v":${CHAT_WIRE_VERSION},"messages":[`
const FRAME_TAIL = ']}'
const FRAME_OVERHEAD = FRAME_HEAD.length + FRAME_TAIL.length

/**
 * One room message as it goes into push frames: its wire JSON, made once and put in the
 * frame of every peer it goes to. Throws InvalidChatMessageError('too-large') like
 * `encodeChatMessage` for a message above MAX_CHAT_MESSAGE_BYTES.
 */
export interface PushItem {
  message: ChatMessage
  json: string
  /** UTF-8 bytes of `json`. */
  bytes: number
}

export function pushItem (message: ChatMessage): PushItem {
  const json = JSON.stringify(toWire(message))
  const bytes = Buffer.byteLength(json)
  if (bytes > MAX_CHAT_MESSAGE_BYTES) fail('too-large', `chat message of ${bytes} bytes exceeds ${MAX_CHAT_MESSAGE_BYTES}`)
  return { message, json, bytes }
}

/**
 * Takes from the front of `queue` what fits in one frame (at most MAX_PUSH_BATCH messages and
 * MAX_PUSH_FRAME_BYTES; always at least one, which fits alone) and encodes it: `wire` is the
 * frame behind its varint length prefix, in one buffer (one write to the stream), `frame`
 * the frame alone.
 */
export function takePushFrame (queue: PushItem[]): { wire: Uint8Array, frame: Uint8Array, items: PushItem[] } {
  let bytes = FRAME_OVERHEAD
  let n = 0
  while (n < queue.length && n < MAX_PUSH_BATCH && (n === 0 || bytes + 1 + queue[n].bytes <= MAX_PUSH_FRAME_BYTES)) {
    bytes += queue[n].bytes + (n === 0 ? 0 : 1)
    n++
  }
  const items = queue.splice(0, n)
  const body = FRAME_HEAD + items.map(i => i.json).join(',') + FRAME_TAIL
  const prefix = varintLength(bytes)
  const wire = Buffer.allocUnsafe(prefix + bytes)
  let at = 0
  for (let v = bytes; v >= 0x80; v >>>= 7) wire[at++] = (v & 0x7f) | 0x80
  wire[at++] = bytes >>> (7 * (prefix - 1))
  wire.write(body, at, 'utf8')
  return { wire, frame: wire.subarray(prefix), items }
}

function varintLength (n: number): number {
  let length = 1
  while (n >= 0x80) { n >>>= 7; length++ }
  return length
}

/** A decoded push frame: the valid room messages, and why the others were dropped. */
export interface DecodedPushFrame {
  messages: ChatMessage[]
  rejected: InvalidChatMessageError[]
}

/**
 * Checks a push frame: size, version, at most MAX_PUSH_BATCH messages. A single invalid
 * message is dropped (and its reason kept), not the frame; a direct message has no place here.
 */
export function decodePushFrame (bytes: Uint8Array): DecodedPushFrame {
  if (bytes.byteLength > MAX_PUSH_FRAME_BYTES) fail('too-large', `frame of ${bytes.byteLength} bytes exceeds ${MAX_PUSH_FRAME_BYTES}`)
  const raw = parseJsonObject(bytes, fail)
  if (raw.v !== CHAT_WIRE_VERSION) fail('bad-version', `unsupported wire version ${String(raw.v)?.slice(0, 20)}`)
  if (!Array.isArray(raw.messages)) fail('bad-field', 'messages must be a list')
  if (raw.messages.length > MAX_PUSH_BATCH) fail('too-large', `a push frame holds at most ${MAX_PUSH_BATCH} messages`)
  return decodeRoomMessages(raw.messages, 'push')
}
