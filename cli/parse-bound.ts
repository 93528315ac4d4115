import { UsageError } from './errors.ts'

/** Prime bounds are exact up to 2^64 - 1. */
export const BOUND_LIMIT = 1n << 64n
/** Larger exponents cannot give a bound below 2^64; refuse them before building huge bigints. */
const MAX_EXPONENT = 64n

const HINT = 'use digits, 1e9, 1_000_000, 2^32 or sums like 1e13+1e10'
// digits with single underscores between them, an optional fraction, an optional exponent
const DECIMAL = /^(\d+(?:_\d+)*)(?:\.(\d+(?:_\d+)*))?(?:[eE]\+?(\d+))?$/
const POWER = /^(\d+(?:_\d+)*)\^(\d+)$/

/**
 * Parses a prime bound: plain digits, `1_000_000`, `1e9`, `2.5e9`, `2^32`, and sums or
 * differences of those (`1e13+1e10`, `2^64-1`). The result must be a whole number in
 * [0, 2^64); anything else throws a UsageError naming `name`.
 */
export function parseBound (text: string, name = 'bound'): bigint {
  const source = text.trim()
  if (source === '') throw new UsageError(`${name} is empty (${HINT})`)
  if (/^-/.test(source)) throw new UsageError(`${name} must not be negative, got "${text}"`)
  // Split before each + or - that is not an exponent sign (1e+3).
  const terms = source.split(/(?<![eE])(?=[+-])/)
  let value = 0n
  for (const raw of terms) {
    const sign = raw.startsWith('-') ? -1n : 1n
    const term = raw.replace(/^[+-]/, '').trim()
    value += sign * parseTerm(term, name, text)
  }
  if (value < 0n) throw new UsageError(`${name} must not be negative, got "${text}"`)
  if (value >= BOUND_LIMIT) throw new UsageError(`${name} must be below 2^64, got "${text}"`)
  return value
}

function parseTerm (term: string, name: string, text: string): bigint {
  const power = POWER.exec(term)
  if (power != null) {
    const exponent = BigInt(power[2])
    const base = BigInt(power[1].replaceAll('_', ''))
    if (exponent > MAX_EXPONENT && base > 1n) throw new UsageError(`${name} must be below 2^64, got "${text}"`)
    return base ** exponent
  }
  const decimal = DECIMAL.exec(term)
  if (decimal == null) throw new UsageError(`${name} is not a whole number: "${text}" (${HINT})`)
  const whole = decimal[1].replaceAll('_', '')
  const fraction = (decimal[2] ?? '').replaceAll('_', '').replace(/0+$/, '')
  const exponent = BigInt(decimal[3] ?? '0')
  const digits = BigInt(whole + fraction)
  const scale = exponent - BigInt(fraction.length)
  if (scale < 0n) {
    const divisor = 10n ** -scale
    if (digits % divisor !== 0n) throw new UsageError(`${name} is not a whole number: "${text}"`)
    return digits / divisor
  }
  if (scale > MAX_EXPONENT && digits !== 0n) throw new UsageError(`${name} must be below 2^64, got "${text}"`)
  return digits * 10n ** scale
}
