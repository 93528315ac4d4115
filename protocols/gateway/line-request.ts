import { CALC_OPS, COMMANDS, MAX_BOUND, MAX_ID_LENGTH, MAX_PRIME_DIGITS, TEXT_OPS } from './constants.ts'

/** One request of the gateway line protocol, from a text line or a JSON object. */
export type GatewayRequest =
  | { cmd: 'prime', n: bigint }
  | { cmd: 'range' | 'count', from: bigint, to: bigint }
  | { cmd: 'echo', text: string }
  | { cmd: 'calc', op: string, numbers: number[] }
  | { cmd: 'text', op: string, text: string }
  | { cmd: 'stats' | 'hello' | 'peers' | 'help' }

export type RequestId = string | number

/** A parsed line: the request, or why there is none (`kind` labels the error counter); `id` when the JSON form gave one. */
export type ParsedLine =
  | { ok: true, request: GatewayRequest, id?: RequestId }
  | { ok: false, kind: 'unknown_command' | 'bad_arguments' | 'bad_json' | 'empty', error: string, id?: RequestId }

export class BadRequestError extends Error {
  override name = 'BadRequestError'
}

const PLAIN = /^\d+(?:_\d+)*$/
const SCIENTIFIC = /^(\d+)(?:\.(\d+))?[eE]\+?(\d+)$/

/**
 * A whole number ≥ 0: digits (`1_000_000` too) or scientific (`1e9`, `2.5e3`), at most
 * `maxDigits` long. JSON numbers are accepted when they are safe integers. Throws BadRequestError.
 */
export function parseWhole (value: unknown, name: string, maxDigits = 20): bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw new BadRequestError(`${name} must be a whole number ≥ 0 (a string beyond 2^53)`)
    return BigInt(value)
  }
  if (typeof value !== 'string') throw new BadRequestError(`${name} must be a whole number`)
  const text = value.trim()
  if (text.length > maxDigits + 8 && !PLAIN.test(text)) throw new BadRequestError(`${name} is too long`)
  if (PLAIN.test(text)) {
    const digits = text.replaceAll('_', '').replace(/^0+(?=\d)/, '')
    if (digits.length > maxDigits) throw new BadRequestError(`${name} has more than ${maxDigits} digits`)
    return BigInt(digits)
  }
  const m = SCIENTIFIC.exec(text)
  if (m == null) throw new BadRequestError(`${name} must be a whole number ≥ 0 (like 97, 1_000_003 or 1e9), got ${quote(text)}`)
  const fraction = (m[2] ?? '').replace(/0+$/, '')
  const mantissa = (m[1] + fraction).replace(/^0+(?=\d)/, '')
  const exponent = Number(m[3]) - fraction.length
  if (exponent < 0) throw new BadRequestError(`${name} must be a whole number, got ${quote(text)}`)
  if (mantissa !== '0' && mantissa.length + exponent > maxDigits) throw new BadRequestError(`${name} has more than ${maxDigits} digits`)
  return BigInt(mantissa) * 10n ** BigInt(mantissa === '0' ? 0 : exponent)
}

/** A prime bound: a whole number below 2^64. */
export function parseBound (value: unknown, name: string): bigint {
  const n = parseWhole(value, name, 20)
  if (n > MAX_BOUND) throw new BadRequestError(`${name} must be below 2^64`)
  return n
}

function parseRange (from: unknown, to: unknown): { from: bigint, to: bigint } {
  const range = { from: parseBound(from, 'from'), to: parseBound(to, 'to') }
  if (range.from > range.to) throw new BadRequestError('from must not be greater than to')
  return range
}

function parseNumbers (values: unknown[], op: string): number[] {
  return values.map((v, i) => {
    const x = typeof v === 'string' && v.trim() !== '' ? Number(v) : v
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new BadRequestError(`calc ${op}: item ${i + 1} is not a finite number`)
    return x
  })
}

function checkOp (kind: 'calc' | 'text', op: unknown): string {
  const ops: readonly string[] = kind === 'calc' ? CALC_OPS : TEXT_OPS
  if (typeof op !== 'string' || !ops.includes(op)) throw new BadRequestError(`${kind} operations are ${ops.join(', ')}`)
  return op
}

/** A short, printable rendering of client text for an error message (no control characters reach a terminal). */
export function quote (text: string, max = 40): string {
  const shown = text.length > max ? `${text.slice(0, max)}…` : text
  return JSON.stringify(shown).replace(/[\u007f-\u009f\u2028\u2029]/g, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

function fromWords (line: string): GatewayRequest {
  const trimmed = line.trim()
  const space = trimmed.search(/\s/)
  const word = space < 0 ? trimmed : trimmed.slice(0, space)
  const cmd = word.toLowerCase()
  const rest = space < 0 ? '' : trimmed.slice(space + 1).trim()
  const words = rest === '' ? [] : rest.split(/\s+/)
  const arity = (n: number, usage: string): void => {
    if (words.length !== n) throw new BadRequestError(`usage: ${usage}`)
  }
  switch (cmd) {
    case 'prime': arity(1, 'prime N'); return { cmd, n: parseWhole(words[0], 'N', MAX_PRIME_DIGITS) }
    case 'range': arity(2, 'range A B'); return { cmd, ...parseRange(words[0], words[1]) }
    case 'count': arity(2, 'count A B'); return { cmd, ...parseRange(words[0], words[1]) }
    case 'echo': return { cmd, text: rest }
    case 'calc': {
      if (words.length < 1) throw new BadRequestError(`usage: calc ${CALC_OPS.join('|')} NUMBERS…`)
      const op = checkOp('calc', words[0])
      return { cmd, op, numbers: parseNumbers(words.slice(1), op) }
    }
    case 'text': {
      if (words.length < 1) throw new BadRequestError(`usage: text ${TEXT_OPS.join('|')} TEXT…`)
      const op = checkOp('text', words[0])
      return { cmd, op, text: rest.slice(words[0].length).trim() }
    }
    case 'stats': case 'hello': case 'peers': case 'help':
      arity(0, cmd)
      return { cmd }
    default:
      throw new UnknownCommandError(`unknown command ${quote(word)}; try help (${Object.keys(COMMANDS).join(', ')})`)
  }
}

class UnknownCommandError extends BadRequestError {
  override name = 'UnknownCommandError'
}

function fromObject (raw: Record<string, unknown>): GatewayRequest {
  const cmd = raw.cmd
  switch (cmd) {
    case 'prime': return { cmd, n: parseWhole(raw.n, 'n', MAX_PRIME_DIGITS) }
    case 'range': case 'count': return { cmd, ...parseRange(raw.from, raw.to) }
    case 'echo':
      if (typeof raw.text !== 'string') throw new BadRequestError('echo takes "text", a string')
      return { cmd, text: raw.text }
    case 'calc': {
      const op = checkOp('calc', raw.op)
      const list = raw.numbers ?? raw.nums
      if (!Array.isArray(list)) throw new BadRequestError('calc takes "numbers", a list of numbers')
      return { cmd, op, numbers: parseNumbers(list, op) }
    }
    case 'text': {
      const op = checkOp('text', raw.op)
      if (typeof raw.text !== 'string') throw new BadRequestError('text takes "text", a string')
      return { cmd, op, text: raw.text }
    }
    case 'stats': case 'hello': case 'peers': case 'help': return { cmd }
    default:
      throw new UnknownCommandError(typeof cmd === 'string'
        ? `unknown command ${quote(cmd)}; try help`
        : '"cmd" must name a command; try {"cmd":"help"}')
  }
}

function idOf (raw: Record<string, unknown>): RequestId | undefined {
  const id = raw.id
  if (typeof id === 'string' && id.length <= MAX_ID_LENGTH) return id
  if (typeof id === 'number' && Number.isSafeInteger(id)) return id
  return undefined
}

/**
 * Parses one request line (already decoded, newline removed): `prime 104729` or
 * `{"cmd":"prime","n":104729,"id":7}`. Never throws: a line that is no request gives the
 * error to answer with.
 */
export function parseLine (line: string): ParsedLine {
  const trimmed = line.trim()
  if (trimmed === '') return { ok: false, kind: 'empty', error: 'empty line; try help' }
  let id: RequestId | undefined
  try {
    if (trimmed.startsWith('{')) {
      let raw: unknown
      try {
        raw = JSON.parse(trimmed)
      } catch {
        return { ok: false, kind: 'bad_json', error: 'not valid JSON; send {"cmd":…} or a text command' }
      }
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, kind: 'bad_json', error: 'a JSON request must be an object' }
      id = idOf(raw as Record<string, unknown>)
      const request = fromObject(raw as Record<string, unknown>)
      return id === undefined ? { ok: true, request } : { ok: true, request, id }
    }
    return { ok: true, request: fromWords(trimmed) }
  } catch (err: any) {
    const kind = err?.name === 'UnknownCommandError' ? 'unknown_command' : 'bad_arguments'
    const error = err instanceof BadRequestError ? err.message : 'bad request'
    return id === undefined ? { ok: false, kind, error } : { ok: false, kind, error, id }
  }
}
