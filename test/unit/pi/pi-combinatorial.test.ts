import { afterAll, describe, expect, it } from 'vitest'
import { piOnPool } from '../../../node/compute/pi/parallel-pi.ts'
import { piCombinatorial } from '../../../node/compute/pi/pi-combinatorial.ts'
import { WorkerPool } from '../../../node/compute/worker-pool.ts'
import { seededRandom } from '../primes/reference.ts'
import { logUniform, primecountAll } from './primecount-oracle.ts'

/** Printed on failure, so a failing x can be recomputed. */
const SEED = 20261129

describe('pi(x) by Deléglise–Rivat against primecount', () => {
  const pool = new WorkerPool({ size: 2 })
  afterAll(async () => { await pool.close() })

  it('agrees on 200 random x below 1e13 (log-uniform from 1e3, so every code path and size is hit)', async () => {
    const xs = logUniform(seededRandom(SEED), 200, 1e3, 1e13)
    const want = await primecountAll(xs)
    for (const x of xs) expect(piCombinatorial(x), `x = ${x} (seed ${SEED})`).toBe(want.get(x))
  }, 240_000)

  it('agrees on 20 x up to 1e16, 2^53 - 1 and 2^53 + 1 among them, on two worker threads', async () => {
    const xs = [...logUniform(seededRandom(SEED + 1), 18, 1e13, 1e16), 2n ** 53n - 1n, 2n ** 53n + 1n]
    const want = await primecountAll(xs)
    for (const x of xs) expect((await piOnPool(x, { pool })).count, `x = ${x} (seed ${SEED + 1})`).toBe(want.get(x))
  }, 600_000)

  it('knows the edge cases: 0, 1, 2, squares and cubes of primes and their neighbours, 2^32', async () => {
    const primes = [2n, 3n, 5n, 7n, 211n, 1009n, 10007n, 99991n, 1000003n, 21701n]
    const xs = [0n, 1n, 2n, 3n, 2n ** 32n, 2n ** 32n - 1n]
    for (const p of primes) {
      for (const n of [p * p, p * p * p]) if (n < 10n ** 13n) xs.push(n - 1n, n, n + 1n)
    }
    const want = await primecountAll(xs)
    for (const x of xs) expect(piCombinatorial(x), `x = ${x}`).toBe(want.get(x))
    expect(piCombinatorial(2n ** 32n)).toBe(203280221n)
  }, 120_000)

  it('takes the path of x above 2^52 (numbers as two doubles) at small x too, and agrees', async () => {
    const xs = logUniform(seededRandom(SEED + 2), 12, 1e7, 1e13)
    const want = await primecountAll(xs)
    // narrowBelow = 1: every quotient is held as a wide pair, as for x near 2^64.
    for (const x of xs) expect(piCombinatorial(x, undefined, 1), `x = ${x}`).toBe(want.get(x))
  }, 120_000)

  it('gives the same pi(x) from a dozen independent hard-leaf shards on the pool as from one on this thread', async () => {
    const x = 123_456_789_012_345n
    const want = (await primecountAll([x])).get(x)
    expect((await piOnPool(x, { pool })).count).toBe(want)
    expect(piCombinatorial(x)).toBe(want)
  }, 120_000)
})
