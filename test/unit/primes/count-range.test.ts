import { describe, expect, it } from 'vitest'
import { countRange, listPrimes } from '../../../node/compute/primes/index.ts'
import { SEGMENT_SHIFT } from '../../../node/compute/primes/segmented-sieve.ts'
import { referenceCount, referenceIsPrime, seededRandom } from './reference.ts'

const LIMIT = 48_000_000
/** Numbers per sieve segment (from the L2 cache's size): ranges crossing it exercise the segment hand-over. */
const SEGMENT_SPAN = 30 * (1 << SEGMENT_SHIFT)
/** The reference covers the random ranges and three segments. */
const isPrime = referenceIsPrime(Math.max(LIMIT, 3 * SEGMENT_SPAN + 1_000))

function check (from: number, to: number): void {
  const got = countRange(BigInt(from), BigInt(to))
  const want = from > to ? { count: 0n, sum: 0n, first: null, last: null } : referenceCount(isPrime, from, to)
  expect(got, `[${from}, ${to}]`).toEqual(want)
}

describe('countRange', () => {
  it('knows pi(10^6) and pi(10^9)', () => {
    expect(countRange(0n, 1_000_000n).count).toBe(78498n)
    expect(countRange(1n, 1_000_000_000n).count).toBe(50847534n)
  })

  it('knows pi(2^32)', () => {
    expect(countRange(0n, 2n ** 32n).count).toBe(203280221n)
  })

  it('counts every range with both ends in [0, 130], wheel primes included', () => {
    for (let from = 0; from <= 130; from++) {
      for (let to = from - 1; to <= 130; to++) check(from, to)
    }
  })

  it('keeps the pre-sieved primes (up to 163) whichever multiple of 120 the sieve starts at', () => {
    for (let from = 100; from <= 400; from++) {
      for (let to = from - 1; to <= 400; to += 3) check(from, to)
    }
  })

  it('handles ranges of width 0 and 1 and empty ranges', () => {
    expect(countRange(0n, 0n)).toEqual({ count: 0n, sum: 0n, first: null, last: null })
    expect(countRange(1n, 1n).count).toBe(0n)
    expect(countRange(2n, 2n)).toEqual({ count: 1n, sum: 2n, first: 2n, last: 2n })
    expect(countRange(3n, 3n).count).toBe(1n)
    expect(countRange(2n, 3n).count).toBe(2n)
    expect(countRange(7n, 7n).count).toBe(1n)
    expect(countRange(71n, 71n).count).toBe(1n)
    expect(countRange(73n, 73n).count).toBe(1n)
    expect(countRange(9n, 9n).count).toBe(0n)
    expect(countRange(10n, 9n).count).toBe(0n)
    expect(countRange(1_000_003n, 1_000_003n).count).toBe(1n)
  })

  it('matches the reference on both sides of multiples of 30 and 120', () => {
    for (const m of [30, 60, 120, 240, 990, 30_030, 1_000_020]) {
      for (let a = m - 8; a <= m + 8; a++) {
        for (let b = a; b <= m + 40; b += 3) check(a, b)
      }
    }
  })

  it('matches the reference across segment edges', () => {
    for (const edge of [SEGMENT_SPAN, 2 * SEGMENT_SPAN, 3 * SEGMENT_SPAN]) {
      for (const [a, b] of [[edge - 31, edge + 31], [edge - 1, edge], [edge, edge + 1], [edge - 500, edge - 1], [edge, edge + 500], [edge - 120, edge + 120]]) {
        check(a, b)
      }
    }
    check(SEGMENT_SPAN - 100_000, 2 * SEGMENT_SPAN + 100_000)
  })

  it('matches the reference on random ranges below 4.8e7 (count, sum, first, last)', () => {
    const random = seededRandom(7)
    for (let i = 0; i < 300; i++) {
      const from = Math.floor(random() * LIMIT)
      const width = Math.floor(random() ** 3 * 4_000_000)
      check(from, Math.min(LIMIT, from + width))
    }
    check(0, LIMIT)
  })

  it('counts without details the same', () => {
    expect(countRange(0n, 10_000_000n, { details: false }).count).toBe(664579n)
    expect(countRange(1_000_000_000_000n, 1_000_010_000_000n, { details: false }).count)
      .toBe(countRange(1_000_000_000_000n, 1_000_010_000_000n).count)
  })

  it('sums modulo 2^64 and finds first and last near 2^64', () => {
    // From `primesieve 18446744073709541616 18446744073709551615 -p`; 2^64 - 59 is the largest
    // prime below 2^64. (Each range near 2^64 sieves with all 203 million primes below 2^32.)
    expect(countRange(2n ** 64n - 10_000n, 2n ** 64n - 1n)).toEqual({
      count: 218n,
      sum: 18446744073708510386n,
      first: 18446744073709541621n,
      last: 2n ** 64n - 59n
    })
  })

  it('sums above 2^53 like a listing does', () => {
    const from = 2n ** 54n - 100_000n
    const to = 2n ** 54n + 100_000n
    const primes = [...listPrimes(from, to)]
    const got = countRange(from, to)
    expect(got.count).toBe(BigInt(primes.length))
    expect(got.first).toBe(primes[0])
    expect(got.last).toBe(primes.at(-1))
    expect(got.sum).toBe(BigInt.asUintN(64, primes.reduce((a, b) => a + b, 0n)))
  })

  it('rejects bounds outside [0, 2^64)', () => {
    expect(() => countRange(-1n, 5n)).toThrow(RangeError)
    expect(() => countRange(0n, 2n ** 64n)).toThrow(RangeError)
  })
})
