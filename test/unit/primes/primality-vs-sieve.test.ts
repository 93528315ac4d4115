import { describe, expect, it } from 'vitest'
import { listPrimes } from '../../../node/compute/primes/index.ts'
import { isPrime } from '../../../node/compute/primes/primality.ts'

function byIsPrime (from: bigint, to: bigint): bigint[] {
  const out: bigint[] = []
  for (let n = from; n <= to; n++) if (isPrime(n)) out.push(n)
  return out
}

const RANGES: Array<[bigint, bigint]> = [
  [0n, 200_000n],
  // Across 2^20, where isPrime leaves its table for trial division and Miller-Rabin.
  [1_000_000n, 1_100_000n],
  [4_294_900_000n, 4_295_100_000n],
  [10n ** 15n, 10n ** 15n + 100_000n],
  [(1n << 53n) - 50_000n, (1n << 53n) - 1n]
]

/**
 * Holds isPrime against the segmented sieve's listPrimes(from, to). The two share no code,
 * so agreement checks both.
 */
describe('isPrime against listPrimes from the sieve', () => {
  for (const [from, to] of RANGES) {
    it(`agrees on [${from}, ${to}]`, () => {
      expect([...listPrimes(from, to)]).toEqual(byIsPrime(from, to))
    })
  }
})
