import { MAX_PEER_ID_LENGTH, PEER_ID_PATTERN } from './names.ts'

/**
 * What every mesh wire format does first: bytes to a UTF-8 JSON value, strictly (invalid
 * UTF-8 is an error, not U+FFFD). Each protocol passes its own `fail`, which throws its own
 * named error with a reason label for its drop counters.
 */
export type Fail = (reason: string, message: string) => never

const decoder = new TextDecoder('utf-8', { fatal: true })

export function parseJsonBytes (bytes: Uint8Array, fail: Fail): unknown {
  let text: string
  try {
    text = decoder.decode(bytes)
  } catch {
    fail('bad-utf8', 'not valid UTF-8')
  }
  try {
    return JSON.parse(text)
  } catch {
    fail('bad-json', 'not valid JSON')
  }
}

/**
 * A short, safe description of a field's value for an error message. Objects and arrays are
 * named, not serialised: a deeply nested one would overflow the stack in JSON.stringify, and
 * the error would then escape as something other than the protocol's own.
 */
export function describeValue (value: unknown): string {
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object' && value !== null) return 'an object'
  return (JSON.stringify(value) ?? String(value)).slice(0, 40)
}

export function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A JSON object (not an array, not a scalar), or `fail('bad-shape')`. */
export function parseJsonObject (bytes: Uint8Array, fail: Fail): Record<string, unknown> {
  const raw = parseJsonBytes(bytes, fail)
  if (!isRecord(raw)) fail('bad-shape', 'not a JSON object')
  return raw
}

/**
 * The field checks every codec makes, failing through the protocol's own `fail` with reason
 * `bad-field` and the field's name in the message.
 */
export interface FieldChecks {
  /** A string of at most `maxLength` characters (UTF-16 units; '' passes). */
  string: (value: unknown, field: string, maxLength: number) => string
  /** A safe integer from `min` (default 0) to `max` (default Number.MAX_SAFE_INTEGER). */
  wholeNumber: (value: unknown, field: string, max?: number, min?: number) => number
  /** A finite number from `min` to `max`. */
  number: (value: unknown, field: string, min: number, max: number) => number
  /** An array of at most `maxItems` items; the items are the caller's to check. */
  list: (value: unknown, field: string, maxItems: number) => unknown[]
  /** An array of at most `maxItems` strings of at most `maxLength` characters each. */
  stringList: (value: unknown, field: string, maxItems: number, maxLength: number) => string[]
  /** A peer id as text: base58btc of bounded length (a shape check; signatures do the rest). */
  peerId: (value: unknown, field: string) => string
}

/**
 * Written here rather than taken from a schema library (zod, ajv): the three wire formats
 * need a dozen checks between them, each failing through the protocol's own named error with
 * a reason label for its drop counter, which a schema library's error objects would have to
 * be translated into anyway; and these run on every gossip message, where a hand-written
 * check is cheapest.
 */
export function fieldChecks (fail: Fail): FieldChecks {
  const checks: FieldChecks = {
    string: (value, field, maxLength) => {
      if (typeof value !== 'string' || value.length > maxLength) fail('bad-field', `${field} must be a string of at most ${maxLength} characters`)
      return value
    },
    wholeNumber: (value, field, max = Number.MAX_SAFE_INTEGER, min = 0) => {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
        fail('bad-field', `${field} must be a whole number from ${min} to ${max}`)
      }
      return value
    },
    number: (value, field, min, max) => {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
        fail('bad-field', `${field} must be a number from ${min} to ${max}`)
      }
      return value
    },
    list: (value, field, maxItems) => {
      if (!Array.isArray(value) || value.length > maxItems) fail('bad-field', `${field} must be a list of at most ${maxItems} items`)
      return value
    },
    stringList: (value, field, maxItems, maxLength) =>
      checks.list(value, field, maxItems).map((item, i) => checks.string(item, `${field}[${i}]`, maxLength)),
    peerId: (value, field) => {
      const id = checks.string(value, field, MAX_PEER_ID_LENGTH)
      if (!PEER_ID_PATTERN.test(id)) fail('bad-field', `${field} is not a peer id`)
      return id
    }
  }
  return checks
}
