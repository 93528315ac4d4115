import { isRecord, parseJsonObject } from '../json.ts'
import {
  CHAT_WIRE_VERSION, MAX_ACK_FRAME_BYTES, MAX_DIGEST_FRAME_BYTES, MAX_DIGEST_SENDERS,
  MAX_ROOM_LENGTH, MAX_SYNC_BATCH, MAX_SYNC_FRAME_BYTES, ROOM_PATTERN
} from './constants.ts'
import { decodeRoomMessages, toWire } from './codec.ts'
import type { InvalidChatMessageError } from './errors.ts'
import { check, fail, peerId, uint } from './fields.ts'
import type { ChatMessage } from './messages.ts'

const encoder = new TextEncoder()

/**
 * Anti-entropy request: for one room, the highest seq up to which the asker holds every
 * message of each sender (its digest). The answer is what the asker lacks.
 */
export interface SyncRequest {
  v: number
  room: string
  have: Record<string, number>
  /**
   * The senders this request is about: those after `after` (exclusive) up to `until`
   * (inclusive), in id order; absent bounds are open. A room with more senders than one
   * digest may name is synced one such page at a time, and a sender missing from `have`
   * means "nothing of it" only inside the page.
   */
  after?: string
  until?: string
}

export interface SyncResponse {
  v: number
  messages: ChatMessage[]
  /** The answer was cut at the batch limit: ask again with the new digest. */
  more: boolean
}

/** A decoded sync answer: the valid messages, and why the others were dropped. */
export interface DecodedSyncResponse extends SyncResponse {
  rejected: InvalidChatMessageError[]
}

/** Answer to a direct message: stored (ok), or why not. */
export interface DmAck {
  v: number
  ok: boolean
  id: string
  reason?: string
}

export function encodeSyncRequest (request: SyncRequest): Uint8Array {
  return checkedBytes(request, MAX_DIGEST_FRAME_BYTES)
}

export function decodeSyncRequest (bytes: Uint8Array): SyncRequest {
  const raw = frameObject(bytes, MAX_DIGEST_FRAME_BYTES)
  const room = raw.room
  if (typeof room !== 'string' || room.length === 0 || room.length > MAX_ROOM_LENGTH || !ROOM_PATTERN.test(room)) fail('bad-field', 'room is not a room name')
  if (!isRecord(raw.have)) fail('bad-field', 'have must be an object')
  const entries = Object.entries(raw.have)
  if (entries.length > MAX_DIGEST_SENDERS) fail('too-large', `a digest names at most ${MAX_DIGEST_SENDERS} senders`)
  const have: Record<string, number> = Object.create(null)
  for (const [sender, seq] of entries) have[peerId(sender, 'have key')] = uint(seq, `have[${sender.slice(0, 60)}]`)
  const request: SyncRequest = { v: CHAT_WIRE_VERSION, room, have }
  if (raw.after != null) request.after = peerId(raw.after, 'after')
  if (raw.until != null) request.until = peerId(raw.until, 'until')
  return request
}

export function encodeSyncResponse (response: SyncResponse): Uint8Array {
  return checkedBytes({ v: response.v, messages: response.messages.map(toWire), more: response.more }, MAX_SYNC_FRAME_BYTES)
}

/** Checks the frame and the batch limit; a single invalid message is dropped, not the batch. */
export function decodeSyncResponse (bytes: Uint8Array): DecodedSyncResponse {
  const raw = frameObject(bytes, MAX_SYNC_FRAME_BYTES)
  if (!Array.isArray(raw.messages)) fail('bad-field', 'messages must be a list')
  if (raw.messages.length > MAX_SYNC_BATCH) fail('too-large', `a sync batch holds at most ${MAX_SYNC_BATCH} messages`)
  if (typeof raw.more !== 'boolean') fail('bad-field', 'more must be true or false')
  return { v: CHAT_WIRE_VERSION, ...decodeRoomMessages(raw.messages, 'sync'), more: raw.more }
}

export function encodeDmAck (ack: DmAck): Uint8Array {
  return checkedBytes(ack, MAX_ACK_FRAME_BYTES)
}

export function decodeDmAck (bytes: Uint8Array): DmAck {
  const raw = frameObject(bytes, MAX_ACK_FRAME_BYTES)
  if (typeof raw.ok !== 'boolean') fail('bad-field', 'ok must be true or false')
  const reason = typeof raw.reason === 'string' ? raw.reason.slice(0, 200) : undefined
  return { v: CHAT_WIRE_VERSION, ok: raw.ok, id: check.string(raw.id, 'id', 64), reason }
}

function checkedBytes (value: unknown, max: number): Uint8Array {
  const bytes = encoder.encode(JSON.stringify(value))
  if (bytes.byteLength > max) fail('too-large', `frame of ${bytes.byteLength} bytes exceeds ${max}`)
  return bytes
}

function frameObject (bytes: Uint8Array, max: number): Record<string, unknown> {
  if (bytes.byteLength > max) fail('too-large', `frame of ${bytes.byteLength} bytes exceeds ${max}`)
  const raw = parseJsonObject(bytes, fail)
  if (raw.v !== CHAT_WIRE_VERSION) fail('bad-version', `unsupported wire version ${String(raw.v)?.slice(0, 20)}`)
  return raw
}
