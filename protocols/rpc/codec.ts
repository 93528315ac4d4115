import {
  MAX_DEADLINE_MS, MAX_ERROR_MESSAGE_LENGTH, MAX_ERROR_NAME_LENGTH, MAX_METHOD_NAME_LENGTH,
  MAX_REQUEST_ID, MAX_RPC_FRAME_BYTES, MAX_SERVICE_NAME_LENGTH, NAME_PATTERN
} from './constants.ts'
import { describeValue, isRecord, parseJsonObject } from '../json.ts'
import { FrameTooLargeError, InvalidRpcFrameError } from './errors.ts'
import type { RpcClientMessage, RpcErrorBody, RpcMessage, RpcRequest, RpcServerMessage } from './messages.ts'

const encoder = new TextEncoder()

/**
 * A message as UTF-8 JSON, the body of one frame (the writer adds the length prefix).
 * Throws InvalidRpcFrameError for what JSON cannot carry, FrameTooLargeError above the limit.
 */
export function encodeRpcMessage (message: RpcMessage, maxBytes = MAX_RPC_FRAME_BYTES): Uint8Array {
  let text: string | undefined
  try {
    text = JSON.stringify(message)
  } catch (err: any) {
    throw new InvalidRpcFrameError('not-json', `message is not JSON-serialisable: ${String(err?.message ?? err)}`)
  }
  // Only a message that is not an object at all (undefined, a function) stringifies to
  // undefined. An undefined `args` or `result` would vanish from the object instead, which is
  // why the client and the handler runner turn it into null before they get here.
  if (text === undefined) throw new InvalidRpcFrameError('not-json', 'message is not JSON-serialisable')
  // Each UTF-16 unit is at most 3 UTF-8 bytes: skip the encode of something certainly too big.
  if (text.length > maxBytes) throw new FrameTooLargeError('too-large', `message of at least ${text.length} bytes exceeds ${maxBytes}`)
  const bytes = encoder.encode(text)
  if (bytes.byteLength > maxBytes) throw new FrameTooLargeError('too-large', `message of ${bytes.byteLength} bytes exceeds ${maxBytes}`)
  return bytes
}

/** A frame body a server reads: a request or a cancel. Validates every field. */
export function decodeClientMessage (bytes: Uint8Array): RpcClientMessage {
  const raw = parse(bytes)
  const id = requestId(raw.id)
  switch (raw.type) {
    case 'request': return decodeRequest(raw, id)
    case 'cancel': return { type: 'cancel', id }
    default: fail('bad-type', `a caller may not send type ${describeValue(raw.type)}`, id)
  }
}

/** A frame body a caller reads: result, item, end or error. Validates every field. */
export function decodeServerMessage (bytes: Uint8Array): RpcServerMessage {
  const raw = parse(bytes)
  const id = requestId(raw.id)
  switch (raw.type) {
    case 'result':
      if (!('result' in raw)) fail('bad-field', 'result is missing', id)
      return { type: 'result', id, result: raw.result }
    case 'item':
      if (!('value' in raw)) fail('bad-field', 'value is missing', id)
      return { type: 'item', id, value: raw.value }
    case 'end': return { type: 'end', id }
    case 'error': return { type: 'error', id, error: errorBody(raw.error, id) }
    default: fail('bad-type', `a server may not send type ${describeValue(raw.type)}`, id)
  }
}

/** Trims a local error to what may travel: a bounded name and message. */
export function toErrorBody (err: unknown): RpcErrorBody {
  const e = err as { name?: unknown, message?: unknown } | null
  const name = typeof e?.name === 'string' && e.name !== '' ? e.name : 'Error'
  const message = typeof e?.message === 'string' ? e.message : String(err)
  return { name: name.slice(0, MAX_ERROR_NAME_LENGTH), message: message.slice(0, MAX_ERROR_MESSAGE_LENGTH) }
}

function decodeRequest (raw: Record<string, unknown>, id: number): RpcRequest {
  const service = name(raw.service, 'service', MAX_SERVICE_NAME_LENGTH, id)
  const method = name(raw.method, 'method', MAX_METHOD_NAME_LENGTH, id)
  const deadlineMs = raw.deadlineMs
  if (typeof deadlineMs !== 'number' || !Number.isInteger(deadlineMs) || deadlineMs < 1 || deadlineMs > MAX_DEADLINE_MS) {
    fail('bad-field', `deadlineMs must be a whole number from 1 to ${MAX_DEADLINE_MS}`, id)
  }
  return { type: 'request', id, service, method, args: raw.args ?? null, deadlineMs }
}

function errorBody (value: unknown, id: number): RpcErrorBody {
  if (!isRecord(value)) fail('bad-field', 'error must be an object', id)
  const { name, message } = value
  if (typeof name !== 'string' || name === '' || name.length > MAX_ERROR_NAME_LENGTH) {
    fail('bad-field', `error.name must be 1 to ${MAX_ERROR_NAME_LENGTH} characters`, id)
  }
  if (typeof message !== 'string' || message.length > MAX_ERROR_MESSAGE_LENGTH) {
    fail('bad-field', `error.message must be a string of at most ${MAX_ERROR_MESSAGE_LENGTH} characters`, id)
  }
  return { name, message }
}

function parse (bytes: Uint8Array): Record<string, unknown> {
  if (bytes.byteLength > MAX_RPC_FRAME_BYTES) throw new FrameTooLargeError('too-large', `${bytes.byteLength} bytes exceeds ${MAX_RPC_FRAME_BYTES}`)
  return parseJsonObject(bytes, fail)
}

function requestId (value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > MAX_REQUEST_ID) {
    fail('bad-id', `id must be a whole number from 0 to ${MAX_REQUEST_ID}`)
  }
  return value
}

function name (value: unknown, field: string, maxLength: number, id: number): string {
  if (typeof value !== 'string' || value.length > maxLength || !NAME_PATTERN.test(value)) {
    fail('bad-field', `${field} must be 1 to ${maxLength} characters of a-z, 0-9, _ and -, starting with a letter`, id)
  }
  return value
}

function fail (reason: string, message: string, id?: number): never {
  throw new InvalidRpcFrameError(reason, message, id)
}
