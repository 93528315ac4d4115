import { describe, expect, it } from 'vitest'
import { combine, countRange, formatPrimeBatch, listPrimes, planShards, primeBatches } from '../../../node/compute/primes/index.ts'
import { referenceIsPrime } from './reference.ts'

const isPrime = referenceIsPrime(5_000_000)

describe('listPrimes', () => {
  it('lists exactly the primes of a range, in order', () => {
    for (const [from, to] of [[0, 100], [7, 7], [8, 10], [29, 31], [1_000_000, 1_100_000], [3_900_000, 4_000_000]]) {
      const want: bigint[] = []
      for (let n = from; n <= to; n++) if (isPrime[n] === 1) want.push(BigInt(n))
      expect([...listPrimes(BigInt(from), BigInt(to))], `[${from}, ${to}]`).toEqual(want)
    }
  })

  it('formats batches as decimal lines, above 2^53 too', () => {
    const near64 = [...primeBatches(2n ** 64n - 100n, 2n ** 64n - 1n)].map(formatPrimeBatch).join('')
    expect(near64).toBe('18446744073709551521\n18446744073709551533\n18446744073709551557\n')
    const small = [...primeBatches(0n, 30n)].map(formatPrimeBatch).join('')
    expect(small).toBe('2\n3\n5\n7\n11\n13\n17\n19\n23\n29\n')
    const above53 = 2n ** 53n
    const lines = [...primeBatches(above53 - 200n, above53 + 200n)].map(formatPrimeBatch).join('').trim().split('\n')
    expect(lines.map(BigInt)).toEqual([...listPrimes(above53 - 200n, above53 + 200n)])
    expect(BigInt(lines.length)).toBe(countRange(above53 - 200n, above53 + 200n).count)
  })
})

describe('planShards', () => {
  it('covers the range exactly, in order, with inner edges on multiples of 30', () => {
    for (const [from, to, workers] of [[0n, 10n ** 10n, 2], [1n, 1n, 2], [5n, 10n ** 7n + 3n, 3], [10n ** 13n, 10n ** 13n + 10n ** 10n, 2], [2n ** 64n - 10n ** 9n, 2n ** 64n - 1n, 4]] as const) {
      const shards = planShards(from, to, workers)
      expect(shards[0].from).toBe(from)
      expect(shards.at(-1)?.to).toBe(to)
      for (let i = 1; i < shards.length; i++) {
        expect(shards[i].from).toBe(shards[i - 1].to + 1n)
        expect(shards[i].from % 30n).toBe(0n)
      }
      for (const s of shards) expect(s.from <= s.to).toBe(true)
      if (shards.length > 1) expect(shards.length % workers).toBe(0)
    }
    expect(planShards(5n, 4n, 2)).toEqual([])
  })

  it('adds shard results like one count', () => {
    const shards = planShards(0n, 40_000_000n, 2)
    expect(shards.length).toBeGreaterThan(1)
    expect(combine(shards.map((s) => countRange(s.from, s.to)))).toEqual(countRange(0n, 40_000_000n))
  })
})
