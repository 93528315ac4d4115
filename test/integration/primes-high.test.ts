import { execFile, execFileSync } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { countRange } from '../../node/compute/primes/index.ts'
import { MASK_BYTES } from '../../node/compute/primes/large-primes.ts'
import { seededRandom } from '../unit/primes/reference.ts'

/**
 * The sieve high up, against primesieve (Debian package, installed by .ci/run): above 1e17 the
 * sieving primes go past 3e8 and nearly all of them take the large-prime path (a bitmap made
 * once per thread, placed chunk by chunk in WebAssembly); near 2^64 they are all 203 million
 * primes below 2^32. Counts, sums, first and last primes must match exactly. A few seconds.
 */
const run = promisify(execFile)
const TOP = (1n << 64n) - 1n
/** Numbers one chunk of the large-prime path covers: wider intervals hand over between chunks. */
const CHUNK_SPAN = 30n * BigInt(MASK_BYTES)

function primesieveVersion (): string | null {
  try {
    return execFileSync('primesieve', ['--version'], { encoding: 'utf8' }).split('\n')[0]
  } catch {
    return null
  }
}

async function primesieveCount (from: bigint, to: bigint): Promise<bigint> {
  const { stdout } = await run('primesieve', [String(from), String(to), '-c1', '-q', '-t1'])
  return BigInt(stdout.trim())
}

async function primesievePrimes (from: bigint, to: bigint): Promise<bigint[]> {
  const { stdout } = await run('primesieve', [String(from), String(to), '-p'], { maxBuffer: 16 << 20 })
  return stdout.split('\n').filter((l) => l !== '').map(BigInt)
}

/** Uniform bigint in [low, high). */
function between (random: () => number, low: bigint, high: bigint): bigint {
  const span = high - low
  const r = (BigInt(Math.floor(random() * 2 ** 32)) << 32n) | BigInt(Math.floor(random() * 2 ** 32))
  return low + r % span
}

const version = primesieveVersion()

describe('the sieve above 1e17 against primesieve', () => {
  it('finds primesieve (the oracle; .ci/run installs it)', () => {
    expect(version, 'primesieve is not on PATH').toMatch(/^primesieve /)
  })

  // First, so the primes below 2^32 are made once for the whole file (they stay with the thread).
  it.skipIf(version == null)('lists the same primes in [2^64 - 1e6, 2^64 - 1] and above 1e17', { timeout: 120_000 }, async () => {
    for (const [from, to] of [[TOP - 1_000_000n, TOP], [10n ** 17n, 10n ** 17n + 100_000n]]) {
      const primes = await primesievePrimes(from, to)
      const got = countRange(from, to)
      const label = `[${from}, ${to}]`
      expect(got.count, label).toBe(BigInt(primes.length))
      expect(got.sum, label).toBe(BigInt.asUintN(64, primes.reduce((a, b) => a + b, 0n)))
      expect(got.first, label).toBe(primes[0] ?? null)
      expect(got.last, label).toBe(primes.at(-1) ?? null)
    }
  })

  // A narrow range hands the primes with few multiples in it to the large tier, from well below
  // its square root: the medium tier's limit falls with the width (range-sieve.ts).
  it.skipIf(version == null)('counts ranges whose medium tier stops early, at every width', { timeout: 120_000 }, async () => {
    const intervals: [bigint, bigint][] = [
      [10n ** 12n, 10n ** 12n + 100_000_000n],
      [10n ** 14n + 7n, 10n ** 14n + 1_000_000_000n],
      [5n * 10n ** 15n + 119n, 5n * 10n ** 15n + 300_000_000n],
      [2n ** 53n - 20_000_000n, 2n ** 53n + 20_000_000n]
    ]
    for (const [from, to] of intervals) {
      const want = primesieveCount(from, to)
      expect(countRange(from, to, { details: false }).count, `[${from}, ${to}]`).toBe(await want)
    }
  })

  // Primes of half the chunk's numbers or more take the kernel without a loop (at most one
  // multiple, large-primes.ts); here those from 1e8 on, the smaller ones the other kernel.
  it.skipIf(version == null)('counts a range near 2^64 whose large primes take both kernels', { timeout: 120_000 }, async () => {
    const from = TOP - 200_000_000n
    const want = primesieveCount(from, TOP)
    expect(countRange(from, TOP, { details: false }).count).toBe(await want)
  })

  it.skipIf(version == null)('counts random intervals between 1e17 and 2^64 exactly', { timeout: 120_000 }, async () => {
    const random = seededRandom(17)
    const intervals: [bigint, bigint][] = []
    // Heights from 1e17 to 1e19, widths up to 2e7 (one chunk), and one across a chunk boundary.
    for (let i = 0; i < 4; i++) {
      const from = between(random, 10n ** 17n, 10n ** 19n)
      intervals.push([from, from + between(random, 1n, 20_000_000n)])
    }
    const across = between(random, 10n ** 17n, 2n * 10n ** 17n)
    intervals.push([across, across + CHUNK_SPAN + 1_000_000n])
    for (const [from, to] of intervals) {
      const want = primesieveCount(from, to)
      expect(countRange(from, to, { details: false }).count, `[${from}, ${to}]`).toBe(await want)
    }
  })
})
