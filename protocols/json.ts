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
