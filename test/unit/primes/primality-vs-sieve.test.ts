import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { isPrime } from '../../../node/compute/primes/primality.ts'

/**
 * Holds isPrime against the segmented sieve's listPrimes(from, to). The two share no code,
 * so agreement checks both. The sieve module is loaded by path at run time, and the test is
 * skipped while node/compute/primes/index.ts does not export listPrimes.
 */
const SIEVE_MODULE = new URL('../../../node/compute/primes/index.ts', import.meta.url)
const sieve: Record<string, unknown> = existsSync(SIEVE_MODULE) ? await import(SIEVE_MODULE.href) : {}
const listPrimes = typeof sieve.listPrimes === 'function'
  ? sieve.listPrimes as (from: bigint, to: bigint) => unknown
  : undefined

/** listPrimes may return an array, an iterable or an async iterable, of numbers or bigints. */
async function collect (result: unknown): Promise<bigint[]> {
  const value = await result
  const out: bigint[] = []
  if (value != null && typeof (value as any)[Symbol.asyncIterator] === 'function') {
    for await (const p of value as AsyncIterable<number | bigint>) out.push(BigInt(p))
  } else {
    for (const p of value as Iterable<number | bigint>) out.push(BigInt(p))
  }
  return out
}

function byIsPrime (from: bigint, to: bigint): bigint[] {
  const out: bigint[] = []
  for (let n = from; n <= to; n++) if (isPrime(n)) out.push(n)
  return out
}

const RANGES: Array<[bigint, bigint]> = [
  [0n, 200_000n],
  [4_294_900_000n, 4_295_100_000n],
  [10n ** 15n, 10n ** 15n + 100_000n],
  [(1n << 53n) - 50_000n, (1n << 53n) - 1n]
]

describe.skipIf(listPrimes == null)('isPrime against listPrimes from the sieve', () => {
  for (const [from, to] of RANGES) {
    it(`agrees on [${from}, ${to}]`, async () => {
      expect(await collect(listPrimes!(from, to))).toEqual(byIsPrime(from, to))
    })
  }
})
