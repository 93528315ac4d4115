import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { smallFactor } from '../../../node/compute/primes/primality.ts'
import { countSmallPrimes, isSmallPrime, SMALL_COUNT_LIMIT } from '../../../node/compute/primes/small-prime-count.ts'
import { referenceIsPrime } from './reference.ts'

/** Prefix counts of the reference sieve: primes ≤ n is prefix[n + 1]. */
const sieve = referenceIsPrime(SMALL_COUNT_LIMIT)
const prefix = new Uint32Array(SMALL_COUNT_LIMIT + 2)
for (let n = 0; n <= SMALL_COUNT_LIMIT; n++) prefix[n + 1] = prefix[n] + sieve[n]
const reference = (from: number, to: number): number => from > to ? 0 : prefix[to + 1] - prefix[from]

describe('countSmallPrimes: the gateway\'s in-thread count', () => {
  it('is exact at its bounds and at the edges of the table', () => {
    expect(countSmallPrimes(0, SMALL_COUNT_LIMIT)).toBe(82025)
    expect(countSmallPrimes(1, 100_000)).toBe(9592)
    expect(countSmallPrimes(0, 0)).toBe(0)
    expect(countSmallPrimes(0, 1)).toBe(0)
    expect(countSmallPrimes(2, 2)).toBe(1)
    expect(countSmallPrimes(0, 2)).toBe(1)
    expect(countSmallPrimes(3, 3)).toBe(1)
    expect(countSmallPrimes(4, 4)).toBe(0)
    // The last prime of the table (1048573) and the bound itself (2^20, composite).
    expect(countSmallPrimes(1_048_573, SMALL_COUNT_LIMIT)).toBe(1)
    expect(countSmallPrimes(1_048_574, SMALL_COUNT_LIMIT)).toBe(0)
    expect(countSmallPrimes(SMALL_COUNT_LIMIT, SMALL_COUNT_LIMIT)).toBe(0)
    expect(countSmallPrimes(10, 5)).toBe(0)
  })

  it('agrees with a plain sieve on any range in [0, 2^20]', () => {
    const bound = fc.integer({ min: 0, max: SMALL_COUNT_LIMIT })
    fc.assert(fc.property(bound, bound, (a, b) => {
      const [from, to] = a <= b ? [a, b] : [b, a]
      return countSmallPrimes(from, to) === reference(from, to)
    }), { numRuns: 2000 })
    // Every short range near the bottom, where the table's first entries decide.
    for (let from = 0; from < 50; from++) for (let to = from; to < 60; to++) expect(countSmallPrimes(from, to)).toBe(reference(from, to))
  })

  it('isSmallPrime agrees with a plain sieve on every n up to 2^20', () => {
    let wrong = 0
    for (let n = 0; n <= SMALL_COUNT_LIMIT; n++) if (isSmallPrime(n) !== (sieve[n] === 1)) wrong++
    expect(wrong).toBe(0)
    // Trial division, the path it replaced, says the same of 104729 and its neighbours.
    expect(isSmallPrime(104729)).toBe(true)
    expect(smallFactor(104727n)).not.toBeNull()
    expect(isSmallPrime(104727)).toBe(false)
  })

  it('refuses what its table cannot answer', () => {
    expect(() => countSmallPrimes(0, SMALL_COUNT_LIMIT + 1)).toThrow(RangeError)
    expect(() => countSmallPrimes(-1, 10)).toThrow(RangeError)
    expect(() => countSmallPrimes(0.5, 10)).toThrow(RangeError)
  })
})
