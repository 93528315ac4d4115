import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { isPrime, isPrimeBpsw, isPrimeNumber, nextPrime } from '../../../node/compute/primes/primality.ts'
import { mulMod32, mulMod53, splitHigh } from '../../../node/compute/primes/primality-number.ts'
import { millerRabinBigInt, powMod } from '../../../node/compute/primes/primality-bigint.ts'
import { integerSqrt, isPerfectSquare, jacobi, strongLucasProbablePrime } from '../../../node/compute/primes/primality-lucas.ts'
import { smallFactorBigInt, smallFactorNumber } from '../../../node/compute/primes/primality-small.ts'

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

/** Odd composites below 200,000 that pass the strong Lucas test (Selfridge), from sympy. */
const STRONG_LUCAS_PSEUDOPRIMES_BELOW_200000 = [5459, 5777, 10877, 16109, 18971, 22499, 24569,
  25199, 40309, 58519, 75077, 97439, 100127, 113573, 115639, 130139, 155819, 158399, 161027,
  162133, 176399, 176471, 189419, 192509, 197801]

/** a, b < n ≤ bound as Numbers, biased toward the top of the range where products overflow. */
function mulModCase (bound: bigint) {
  return fc.bigInt({ min: 2n, max: bound })
    .chain(n => fc.tuple(fc.constant(n),
      fc.oneof(fc.bigInt({ min: 0n, max: n - 1n }), fc.constant(n - 1n)),
      fc.oneof(fc.bigInt({ min: 0n, max: n - 1n }), fc.constant(n - 1n), fc.constant(n - 2n > 0n ? n - 2n : 0n))))
}

describe('Number modular multiplication', () => {
  it('mulMod32 matches BigInt for n < 2^32', () => {
    fc.assert(fc.property(mulModCase((1n << 32n) - 1n), ([n, a, b]) => {
      expect(mulMod32(Number(a), Number(b), Number(n))).toBe(Number((a * b) % n))
    }), { numRuns: 20_000 })
  })

  it('mulMod53 matches BigInt for n < 2^53', () => {
    fc.assert(fc.property(mulModCase(MAX_SAFE), ([n, a, b]) => {
      const hi = splitHigh(Number(n))
      expect(mulMod53(Number(a), Number(b), Number(n), hi, Number(n) - hi)).toBe(Number((a * b) % n))
    }), { numRuns: 20_000 })
  })

  it('mulMod53 is exact at the very top of the range', () => {
    for (const n of [MAX_SAFE, MAX_SAFE - 1n, (1n << 52n) + 1n, (1n << 52n) - 1n]) {
      const hi = splitHigh(Number(n))
      for (const a of [n - 1n, n - 2n, n / 2n, n / 3n, 1n << 26n]) {
        for (const b of [n - 1n, n - 3n, n / 2n + 1n, 3n]) {
          expect(mulMod53(Number(a), Number(b), Number(n), hi, Number(n) - hi)).toBe(Number((a * b) % n))
        }
      }
    }
  })
})

describe('Lucas helpers', () => {
  it('jacobi matches Euler\'s criterion for odd primes', () => {
    for (const p of [3n, 5n, 7n, 101n, 65537n, (1n << 61n) - 1n]) {
      for (const a of [-11n, -7n, -1n, 0n, 1n, 2n, 5n, 10n, 12345n]) {
        const euler = powMod(((a % p) + p) % p, (p - 1n) / 2n, p)
        const expected = euler === 0n ? 0 : euler === 1n ? 1 : -1
        expect(jacobi(a, p), `(${a}/${p})`).toBe(expected)
      }
    }
  })

  it('jacobi of composite moduli', () => {
    expect(jacobi(1001n, 9907n)).toBe(-1)
    expect(jacobi(19n, 45n)).toBe(1)
    expect(jacobi(8n, 21n)).toBe(-1)
    expect(jacobi(5n, 21n)).toBe(1)
    expect(jacobi(6n, 15n)).toBe(0)
  })

  it('integerSqrt is the floor of the square root', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 1n << 400n }), n => {
      const r = integerSqrt(n)
      expect(r * r <= n && (r + 1n) * (r + 1n) > n).toBe(true)
    }))
    expect(isPerfectSquare(0n)).toBe(true)
    expect(isPerfectSquare((10n ** 150n + 7n) ** 2n)).toBe(true)
    expect(isPerfectSquare((10n ** 150n + 7n) ** 2n - 1n)).toBe(false)
  })

  it('the strong Lucas test is fooled by exactly the known pseudoprimes below 200,000', () => {
    const fooled: number[] = []
    for (let n = 5; n < 200_000; n += 2) {
      const big = BigInt(n)
      if (isPerfectSquare(big)) continue
      if (strongLucasProbablePrime(big) && !isPrimeNumber(n)) fooled.push(n)
      // and it never rejects a prime
      if (isPrimeNumber(n)) expect(strongLucasProbablePrime(big), String(n)).toBe(true)
    }
    expect(fooled).toEqual(STRONG_LUCAS_PSEUDOPRIMES_BELOW_200000)
  })
})

describe('trial division', () => {
  it('Number and BigInt versions agree', () => {
    fc.assert(fc.property(fc.bigInt({ min: 2n, max: MAX_SAFE }), n => {
      expect(smallFactorBigInt(n)).toBe(BigInt(smallFactorNumber(Number(n))))
    }), { numRuns: 5000 })
  })
})

describe('primality properties', () => {
  it('a product a·b with a, b > 1 is never prime', () => {
    const factor = fc.oneof(fc.bigInt({ min: 2n, max: 1n << 32n }), fc.bigInt({ min: 2n, max: 1n << 200n }))
    fc.assert(fc.property(factor, factor, (a, b) => {
      expect(isPrime(a * b)).toBe(false)
    }), { numRuns: 2000 })
  })

  it('a product of two primes is never prime, whatever their size', () => {
    const prime = fc.bigInt({ min: 2n, max: 1n << 100n }).map(nextPrime)
    fc.assert(fc.property(prime, prime, (p, q) => {
      expect(isPrime(p * q)).toBe(false)
    }), { numRuns: 300 })
  })

  it('the Number path agrees with the BigInt paths below 2^53', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: MAX_SAFE }), n => {
      const viaNumber = isPrimeNumber(Number(n))
      expect(viaNumber).toBe(isPrimeBpsw(n))
      if (n > 3n && (n & 1n) === 1n) expect(viaNumber).toBe(millerRabinBigInt(n))
    }), { numRuns: 5000 })
  })

  it('the Number path agrees with the BigInt paths on primes and near-primes below 2^53', () => {
    // Random numbers are mostly settled by trial division; start from primes to exercise
    // Miller-Rabin itself, and step to their odd neighbours (often semiprimes).
    fc.assert(fc.property(fc.bigInt({ min: 1_000_000n, max: MAX_SAFE - 1000n }), start => {
      const p = nextPrime(start)
      expect(isPrimeNumber(Number(p))).toBe(true)
      for (const n of [p + 2n, p + 4n, p * 3n]) {
        if (n > MAX_SAFE) continue
        expect(isPrimeNumber(Number(n)), String(n)).toBe(isPrimeBpsw(n))
        expect(isPrimeNumber(Number(n)), String(n)).toBe(millerRabinBigInt(n))
      }
    }), { numRuns: 2000 })
  })

  it('deterministic Miller-Rabin and BPSW agree on random odd 64-bit numbers', () => {
    fc.assert(fc.property(fc.bigInt({ min: 1n << 53n, max: (1n << 64n) - 1n }), start => {
      const p = nextPrime(start)
      const n = start | 1n
      expect(isPrimeBpsw(p)).toBe(p < (1n << 64n) ? millerRabinBigInt(p) : true)
      expect(isPrime(n)).toBe(isPrimeBpsw(n))
    }), { numRuns: 1000 })
  })
})
