import type { Command } from 'commander'
import { UsageError } from '../errors.ts'
import { withHome, withJson } from '../options.ts'

/**
 * Longest N accepted. A 1,000-digit prime takes about 0.2 s to confirm and the cost grows
 * with the cube of the length, so 10,000 digits (minutes) is the most worth waiting for;
 * the cap also stops `1e999999999` from building a gigantic number.
 */
export const MAX_DIGITS = 10_000

const PLAIN = /^\d+(?:_\d+)*$/
const SCIENTIFIC = /^(\d+)(?:\.(\d+))?[eE]\+?(\d+)$/

/**
 * A whole number ≥ 0 written as plain digits, with `_` between digit groups (1_000_003), or
 * in scientific notation (1e9, 2.5e3). Throws UsageError for anything else: negatives,
 * fractions, text, or more than MAX_DIGITS digits.
 */
export function parseWholeNumber (text: string, name = 'N'): bigint {
  const trimmed = text.trim()
  if (PLAIN.test(trimmed)) {
    const digits = trimmed.replaceAll('_', '').replace(/^0+(?=\d)/, '')
    if (digits.length > MAX_DIGITS) throw new UsageError(`${name} has more than ${MAX_DIGITS} digits`)
    return BigInt(digits)
  }
  const match = SCIENTIFIC.exec(trimmed)
  if (match == null) throw new UsageError(`${name} must be a whole number ≥ 0 (like 97, 1_000_003 or 1e9), got "${text}"`)
  const [, whole, fractionRaw = '', exponentText] = match
  // Trailing zeros of the fraction change nothing; the rest must be covered by the exponent.
  const fraction = fractionRaw.replace(/0+$/, '')
  const mantissa = (whole + fraction).replace(/^0+(?=\d)/, '')
  const exponent = Number(exponentText) - fraction.length
  if (exponent < 0) throw new UsageError(`${name} must be a whole number, got "${text}"`)
  if (mantissa !== '0' && mantissa.length + exponent > MAX_DIGITS) {
    throw new UsageError(`${name} has more than ${MAX_DIGITS} digits`)
  }
  return BigInt(mantissa) * 10n ** BigInt(mantissa === '0' ? 0 : exponent)
}

/** The line `mesh primes test` prints without --json; `smallFactor` names a divisor if there is a small one. */
export function describePrimality (n: bigint, prime: boolean, smallFactor: (n: bigint) => bigint | null | undefined): string {
  if (prime) return `${n} is prime`
  const factor = smallFactor(n)
  return factor != null ? `${n} is not prime (divisible by ${factor})` : `${n} is not prime`
}

/** `mesh primes test N`: primality of a number of any size, computed locally. */
export function registerPrimesTest (primes: Command): void {
  const cmd = primes.command('test <n>')
    .description('is N prime? (any size; deterministic below 2^64, BPSW above)')
  withJson(withHome(cmd))
  cmd.action(async (text: string, opts: { json?: boolean, home?: string }) => {
    const n = parseWholeNumber(text)
    // Loaded here, not at the top: registering this command must cost the others nothing.
    const { isPrime, smallFactor } = await import('../../node/compute/primes/primality.ts')
    const prime = isPrime(n)
    const line = opts.json === true
      ? JSON.stringify({ n: n.toString(), is_prime: prime })
      : describePrimality(n, prime, smallFactor)
    process.stdout.write(line + '\n')
  })
}
