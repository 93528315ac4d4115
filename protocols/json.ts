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
  /** An array of at most `maxItems` items; the items are the caller's to check. */
  list: (value: unknown, field: string, maxItems: number) => unknown[]
}

export function fieldChecks (fail: Fail): FieldChecks {
  return {
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
    list: (value, field, maxItems) => {
      if (!Array.isArray(value) || value.length > maxItems) fail('bad-field', `${field} must be a list of at most ${maxItems} items`)
      return value
    }
  }
}
