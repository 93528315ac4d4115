/**
 * Primality of numbers of any size, with no false answers below 2^64 and no known false
 * answer above:
 *   - n ≤ 2^20: a binary search in the table of the primes below 2^20 (small-prime-count.ts);
 *   - trial division by the primes below 1000 first (settles n < 10^6 alone);
 *   - n ≤ 2^53 - 1: deterministic Miller-Rabin in Number arithmetic (bases {2, 7, 61}
 *     below 4,759,123,141, Sinclair's seven bases above);
 *   - n < 2^64: deterministic Miller-Rabin on BigInt with Sinclair's seven bases;
 *   - beyond: BPSW (strong base-2 Miller-Rabin, perfect-square check, strong Lucas with
 *     Selfridge's method A). No BPSW pseudoprime is known at any size.
 */
import { millerRabinNumber } from './primality-number.ts'
import { millerRabinBigInt, strongProbablePrimeBigInt } from './primality-bigint.ts'
import { isPerfectSquare, strongLucasProbablePrime } from './primality-lucas.ts'
import { smallFactorBigInt, smallFactorNumber, TRIAL_DIVISION_LIMIT } from './primality-small.ts'
import { isSmallPrime, SMALL_COUNT_LIMIT } from './small-prime-count.ts'

/** Below this, a number with no prime factor under TRIAL_DIVISION_LIMIT is prime. */
const TRIAL_DIVISION_DECIDES_BELOW = TRIAL_DIVISION_LIMIT * TRIAL_DIVISION_LIMIT
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)
const TWO_POW_64 = 1n << 64n

/** Primality of a safe integer without BigInt. Non-integers and n < 2 are not prime. */
export function isPrimeNumber (n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false
  if (n > Number.MAX_SAFE_INTEGER) throw new RangeError(`isPrimeNumber needs a safe integer, got ${n}`)
  if (n <= SMALL_COUNT_LIMIT) return isSmallPrime(n)
  const factor = smallFactorNumber(n)
  if (factor !== 0) return factor === n
  if (n < TRIAL_DIVISION_DECIDES_BELOW) return true
  return millerRabinNumber(n)
}

/**
 * The BPSW test alone, for any n (used above 2^64, and exported so tests can hold it
 * against deterministic Miller-Rabin where both apply).
 */
export function isPrimeBpsw (n: bigint): boolean {
  if (n < 2n) return false
  if (n < 4n) return true
  if ((n & 1n) === 0n) return false
  if (!strongProbablePrimeBigInt(n, 2n)) return false
  if (isPerfectSquare(n)) return false
  return strongLucasProbablePrime(n)
}

/** Whether n is prime, for n of any size. */
export function isPrime (n: bigint): boolean {
  if (n < 2n) return false
  if (n <= MAX_SAFE) return isPrimeNumber(Number(n))
  if (smallFactorBigInt(n) !== 0n) return false
  if (n < TWO_POW_64) return millerRabinBigInt(n)
  return isPrimeBpsw(n)
}

/**
 * The smallest prime below 1000 dividing n, if n is composite and has one; null otherwise
 * (for primes, for 0 and 1, and for composites whose factors are all large).
 */
export function smallFactor (n: bigint): bigint | null {
  if (n < 2n) return null
  const factor = n <= MAX_SAFE ? BigInt(smallFactorNumber(Number(n))) : smallFactorBigInt(n)
  return factor !== 0n && factor !== n ? factor : null
}

/** The smallest prime greater than n. */
export function nextPrime (n: bigint): bigint {
  if (n < 2n) return 2n
  // Start at the odd number after n and step by 2.
  let candidate = (n & 1n) === 0n ? n + 1n : n + 2n
  if (candidate <= MAX_SAFE) {
    for (let c = Number(candidate); c <= Number.MAX_SAFE_INTEGER; c += 2) {
      if (isPrimeNumber(c)) return BigInt(c)
    }
    // MAX_SAFE_INTEGER is odd, so the walk goes on at the next odd number in BigInt.
    candidate = MAX_SAFE + 2n
  }
  while (!isPrime(candidate)) candidate += 2n
  return candidate
}

/** The largest prime less than n, or null when there is none (n ≤ 2). */
export function prevPrime (n: bigint): bigint | null {
  if (n <= 2n) return null
  if (n === 3n) return 2n
  // Start at the odd number before n and step down by 2; 3 ends the walk at the latest.
  let candidate = (n & 1n) === 0n ? n - 1n : n - 2n
  while (candidate > MAX_SAFE) {
    if (isPrime(candidate)) return candidate
    candidate -= 2n
  }
  for (let c = Number(candidate); ; c -= 2) {
    if (isPrimeNumber(c)) return BigInt(c)
  }
}
