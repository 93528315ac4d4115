/**
 * Trial division by small primes: the cheap first filter of every primality test. Most
 * composites have a small factor, so this settles them before any modular exponentiation.
 */

/** Trial division stops at this prime; numbers below its square are decided here alone. */
export const TRIAL_DIVISION_LIMIT = 1000

function primesBelow (limit: number): number[] {
  const composite = new Uint8Array(limit)
  const primes: number[] = []
  for (let i = 2; i < limit; i++) {
    if (composite[i] === 1) continue
    primes.push(i)
    for (let j = i * i; j < limit; j += i) composite[j] = 1
  }
  return primes
}

/** The primes below TRIAL_DIVISION_LIMIT, ascending. */
export const SMALL_PRIMES: readonly number[] = primesBelow(TRIAL_DIVISION_LIMIT)

/**
 * The small primes grouped so that each group's product stays below a bound. One remainder
 * by the product then serves every prime of the group: for a BigInt n, one BigInt division
 * per group instead of one per prime; for a Number n, the per-prime remainders become int32
 * operations, about five times faster than the remainder of a double.
 */
interface PrimeGroup {
  product: number
  productBig: bigint
  primes: number[]
}

function groupPrimes (primes: readonly number[], bound: number): PrimeGroup[] {
  const groups: PrimeGroup[] = []
  let product = 1
  let members: number[] = []
  for (const p of primes) {
    if (product * p >= bound) {
      groups.push({ product, productBig: BigInt(product), primes: members })
      product = 1
      members = []
    }
    product *= p
    members.push(p)
  }
  if (members.length > 0) groups.push({ product, productBig: BigInt(product), primes: members })
  return groups
}

const INT32_GROUPS = groupPrimes(SMALL_PRIMES, 2 ** 31)
const SAFE_GROUPS = groupPrimes(SMALL_PRIMES, Number.MAX_SAFE_INTEGER)

/**
 * The smallest prime below TRIAL_DIVISION_LIMIT that divides n (a safe integer ≥ 2), or 0
 * when there is none. A prime n that is itself small is reported as its own factor.
 */
export function smallFactorNumber (n: number): number {
  for (const group of INT32_GROUPS) {
    // n - floor(n/P)·P is exact below 2^53, and the remainder fits an int32.
    const r = (n - Math.floor(n / group.product) * group.product) | 0
    for (const p of group.primes) {
      if (r % p === 0) return p
    }
  }
  return 0
}

/** The same as smallFactorNumber for a BigInt n ≥ 2; 0n when no small prime divides n. */
export function smallFactorBigInt (n: bigint): bigint {
  for (const group of SAFE_GROUPS) {
    const r = Number(n % group.productBig)
    for (const p of group.primes) {
      if (r % p === 0) return BigInt(p)
    }
  }
  return 0n
}
