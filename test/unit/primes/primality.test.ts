import { describe, expect, it } from 'vitest'
import { isPrime, isPrimeBpsw, isPrimeNumber, nextPrime, prevPrime, smallFactor } from '../../../node/compute/primes/primality.ts'

const MERSENNE_EXPONENTS_BELOW_1300 = new Set([2, 3, 5, 7, 13, 17, 19, 31, 61, 89, 107, 127, 521, 607, 1279])

const KNOWN_PRIMES: Array<[string, bigint]> = [
  ['2^31 - 1', (1n << 31n) - 1n],
  ['2^32 - 5, largest 32-bit prime', (1n << 32n) - 5n],
  ['2^53 - 111, largest prime below 2^53', (1n << 53n) - 111n],
  ['2^53 + 5, smallest prime above 2^53', (1n << 53n) + 5n],
  ['2^61 - 1', (1n << 61n) - 1n],
  ['2^64 - 59, largest 64-bit prime', 18446744073709551557n],
  ['2^64 + 13, smallest prime above 2^64', (1n << 64n) + 13n],
  ['2^89 - 1', (1n << 89n) - 1n],
  ['2^127 - 1', (1n << 127n) - 1n],
  ['10^100 + 267 (101 digits)', 10n ** 100n + 267n],
  ['10^100 - 797, largest 100-digit prime', 10n ** 100n - 797n],
  ['10^199 + 153 (200 digits)', 10n ** 199n + 153n],
  ['10^299 + 669 (300 digits)', 10n ** 299n + 669n],
  ['10^300 - 69 (300 digits)', 10n ** 300n - 69n],
  ['2^521 - 1 (157 digits)', (1n << 521n) - 1n]
]

const CARMICHAEL = [561n, 1105n, 1729n, 2465n, 41041n, 825265n, 321197185n,
  // Chernick numbers (6k+1)(12k+1)(18k+1) with all three factors prime, 22-64 digits.
  1296198694153288947529n,
  1296000004358844004886708077826165821249n,
  1296000000000000348368760000000031214195715600000932274576092161n]

/** Strong pseudoprimes to base 2; the larger ones fool every prime base up to 23, 37, 41. */
const BASE_2_STRONG_PSEUDOPRIMES = [2047n, 3277n, 4033n, 3215031751n, 341550071728321n,
  3825123056546413051n, 318665857834031151167461n, 3317044064679887385961981n]

describe('isPrime', () => {
  it('answers 0 through 4', () => {
    expect([0n, 1n, 2n, 3n, 4n].map(isPrime)).toEqual([false, false, true, true, false])
    expect(isPrime(-7n)).toBe(false)
  })

  for (const [name, p] of KNOWN_PRIMES) {
    it(`knows ${name} is prime`, () => {
      expect(isPrime(p)).toBe(true)
      expect(isPrimeBpsw(p)).toBe(true)
    })
  }

  it('finds exactly the Mersenne primes 2^p - 1 for p < 1300', () => {
    const found: number[] = []
    for (let p = 2; p < 1300; p++) {
      if (isPrimeNumber(p) && isPrime((1n << BigInt(p)) - 1n)) found.push(p)
    }
    expect(new Set(found)).toEqual(MERSENNE_EXPONENTS_BELOW_1300)
  })

  it('rejects Carmichael numbers', () => {
    for (const n of CARMICHAEL) expect(isPrime(n), String(n)).toBe(false)
  })

  it('rejects strong pseudoprimes to base 2', () => {
    for (const n of BASE_2_STRONG_PSEUDOPRIMES) {
      expect(isPrime(n), String(n)).toBe(false)
      expect(isPrimeBpsw(n), String(n)).toBe(false)
    }
  })

  it('rejects Fermat numbers 2^(2^k) + 1 for k = 5..10', () => {
    for (let k = 5n; k <= 10n; k++) expect(isPrime((1n << (1n << k)) + 1n)).toBe(false)
  })

  it('rejects products of two large primes', () => {
    const primes = KNOWN_PRIMES.map(([, p]) => p)
    for (let i = 0; i < primes.length; i++) {
      for (let j = i + 1; j < primes.length; j += 3) {
        expect(isPrime(primes[i] * primes[j]), `${primes[i]} * ${primes[j]}`).toBe(false)
      }
    }
    // Both factors above 2^26: no trial division catches these below 2^53.
    expect(isPrime(67108859n * 134217689n)).toBe(false)
    expect(isPrime(4294967291n * 4294967279n)).toBe(false)
  })

  it('rejects squares of primes (the perfect-square check ahead of Lucas)', () => {
    for (const p of [1009n, 65521n, 4294967291n, 94906249n, ...KNOWN_PRIMES.map(([, q]) => q)]) {
      expect(isPrime(p * p), `${p}^2`).toBe(false)
      expect(isPrimeBpsw(p * p), `${p}^2`).toBe(false)
    }
  })

  it('agrees with a sieve on [0, 100000]', () => {
    expect(primesByIsPrime(0n, 100_000n)).toEqual(referencePrimes(0, 100_000))
  })

  it('agrees with a sieve on [2^32 - 10000, 2^32 + 10000]', () => {
    const lo = 2 ** 32 - 10_000
    const hi = 2 ** 32 + 10_000
    expect(primesByIsPrime(BigInt(lo), BigInt(hi))).toEqual(referencePrimes(lo, hi))
  })

  it('agrees with a sieve on [10^12, 10^12 + 20000]', () => {
    const lo = 1e12
    const hi = 1e12 + 20_000
    expect(primesByIsPrime(BigInt(lo), BigInt(hi))).toEqual(referencePrimes(lo, hi))
  })

  it('agrees with BPSW across 2^53 (Number path below, BigInt above)', () => {
    for (let n = (1n << 53n) - 3000n; n < (1n << 53n) + 3000n; n++) {
      expect(isPrime(n), String(n)).toBe(isPrimeBpsw(n))
    }
  })

  it('agrees with BPSW across 2^64 (Miller-Rabin below, BPSW above)', () => {
    let count = 0
    for (let n = (1n << 64n) - 3000n; n < (1n << 64n) + 3000n; n++) {
      const prime = isPrime(n)
      expect(prime, String(n)).toBe(isPrimeBpsw(n))
      if (prime) count++
    }
    // Primes in [2^64 - 3000, 2^64 + 3000), counted with sympy.primerange.
    expect(count).toBe(EXPECTED_PRIMES_NEAR_2_POW_64)
  })
})

describe('isPrimeNumber', () => {
  it('rejects non-integers and refuses unsafe integers', () => {
    expect(isPrimeNumber(7.5)).toBe(false)
    expect(isPrimeNumber(Number.NaN)).toBe(false)
    expect(() => isPrimeNumber(2 ** 60)).toThrow(RangeError)
  })
})

describe('nextPrime and prevPrime', () => {
  it('walk the primes of [0, 20000] in order', () => {
    const primes = referencePrimes(0, 20_000).map(BigInt)
    for (let i = 0; i + 1 < primes.length; i++) {
      expect(nextPrime(primes[i])).toBe(primes[i + 1])
      expect(nextPrime(primes[i + 1] - 1n)).toBe(primes[i + 1])
      expect(prevPrime(primes[i + 1])).toBe(primes[i])
      expect(prevPrime(primes[i] + 1n)).toBe(primes[i])
    }
  })

  it('handle the ends', () => {
    expect(nextPrime(-5n)).toBe(2n)
    expect(nextPrime(0n)).toBe(2n)
    expect(nextPrime(2n)).toBe(3n)
    expect(prevPrime(2n)).toBe(null)
    expect(prevPrime(0n)).toBe(null)
    expect(prevPrime(3n)).toBe(2n)
  })

  it('cross 2^53 and 2^64', () => {
    expect(nextPrime((1n << 53n) - 111n)).toBe((1n << 53n) + 5n)
    expect(prevPrime((1n << 53n) + 5n)).toBe((1n << 53n) - 111n)
    expect(nextPrime(18446744073709551557n)).toBe((1n << 64n) + 13n)
    expect(prevPrime(1n << 64n)).toBe(18446744073709551557n)
  })

  it('find the primes next to 10^100', () => {
    expect(nextPrime(10n ** 100n)).toBe(10n ** 100n + 267n)
    expect(prevPrime(10n ** 100n)).toBe(10n ** 100n - 797n)
  })
})

describe('smallFactor', () => {
  it('names the smallest prime factor below 1000, else null', () => {
    expect(smallFactor(91n)).toBe(7n)
    expect(smallFactor(10n ** 100n)).toBe(2n)
    expect(smallFactor(997n * 1_000_003n)).toBe(997n)
    expect(smallFactor(997n)).toBe(null)
    expect(smallFactor(1009n * 1013n)).toBe(null)
    expect(smallFactor(1n)).toBe(null)
    expect(smallFactor((1n << 127n) - 1n)).toBe(null)
    expect(smallFactor(3n * ((1n << 127n) - 1n))).toBe(3n)
  })
})

const EXPECTED_PRIMES_NEAR_2_POW_64 = 133

function primesByIsPrime (lo: bigint, hi: bigint): number[] {
  const out: number[] = []
  for (let n = lo; n <= hi; n++) if (isPrime(n)) out.push(Number(n))
  return out
}

/** Primes in [lo, hi] by a plain sieve of Eratosthenes over the range, for hi < 2^53. */
function referencePrimes (lo: number, hi: number): number[] {
  const root = Math.floor(Math.sqrt(hi)) + 1
  const small = new Uint8Array(root + 1)
  const composite = new Uint8Array(hi - lo + 1)
  for (let p = 2; p <= root; p++) {
    if (small[p] === 1) continue
    for (let m = p * p; m <= root; m += p) small[m] = 1
    for (let m = Math.max(p * p, Math.ceil(lo / p) * p); m <= hi; m += p) composite[m - lo] = 1
  }
  const out: number[] = []
  for (let n = Math.max(lo, 2); n <= hi; n++) if (composite[n - lo] === 0) out.push(n)
  return out
}
