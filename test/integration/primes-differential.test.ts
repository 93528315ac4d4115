import { execFile, execFileSync } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { countRange } from '../../node/compute/primes/index.ts'
import { seededRandom } from '../unit/primes/reference.ts'

/**
 * Differential test against primesieve (kimwalisch/primesieve, Debian package `primesieve`,
 * installed by .ci/run): hundreds of random intervals from 0 up to 2^64 - 1, every count must
 * match. Narrow intervals also compare the sum (mod 2^64), first and last prime, from
 * primesieve's printed primes. Each oracle process runs while we count the same interval.
 */
const run = promisify(execFile)
const TOP = (1n << 64n) - 1n
const PRINT_WIDTH_LIMIT = 100_000n

interface Interval { from: bigint, to: bigint }

function primesieveVersion (): string | null {
  try {
    return execFileSync('primesieve', ['--version'], { encoding: 'utf8' }).split('\n')[0]
  } catch {
    return null
  }
}

async function oracle ({ from, to }: Interval): Promise<{ count: bigint, sum?: bigint, first?: bigint | null, last?: bigint | null }> {
  if (to - from <= PRINT_WIDTH_LIMIT) {
    const { stdout } = await run('primesieve', [String(from), String(to), '-p'], { maxBuffer: 64 << 20 })
    const primes = stdout.split('\n').filter((l) => l !== '').map(BigInt)
    return {
      count: BigInt(primes.length),
      sum: BigInt.asUintN(64, primes.reduce((a, b) => a + b, 0n)),
      first: primes[0] ?? null,
      last: primes.at(-1) ?? null
    }
  }
  const { stdout } = await run('primesieve', [String(from), String(to), '-c1', '-q', '-t1'])
  return { count: BigInt(stdout.trim()) }
}

/** Log-uniform-ish bigint in [0, max]. */
function randomUpTo (random: () => number, max: bigint): bigint {
  const digits = max.toString().length
  const d = 1 + Math.floor(random() * digits)
  let n = 0n
  for (let i = 0; i < d; i++) n = n * 10n + BigInt(Math.floor(random() * 10))
  return n % (max + 1n)
}

function intervals (): Interval[] {
  const random = seededRandom(20240611)
  const list: Interval[] = []
  const add = (from: bigint, width: bigint): void => {
    const to = from + width > TOP ? TOP : from + width
    list.push({ from, to })
  }
  // Mostly narrow intervals below 1e15 (sieving primes up to ~3e7 are quick to make).
  for (let i = 0; i < 420; i++) add(randomUpTo(random, 10n ** 15n), randomUpTo(random, 100_000n))
  // Wider ones below 1e13.
  for (let i = 0; i < 50; i++) add(randomUpTo(random, 10n ** 13n), randomUpTo(random, 50_000_000n))
  // Around multiples of 30 and 120, and 2^32, 2^53 (the double limit), 2^63.
  for (const anchor of [2n ** 32n, 2n ** 53n, 10n ** 12n]) {
    for (let i = 0; i < 10; i++) add(anchor - BigInt(Math.floor(random() * 240)), BigInt(Math.floor(random() * 300)))
  }
  for (let i = 0; i < 10; i++) add(randomUpTo(random, 10n ** 17n), randomUpTo(random, 2_000n))
  add(2n ** 63n - 1000n, 2000n)
  // Sieving primes above the medium tier (12.6M): the large-prime mask across many segments.
  add(10n ** 15n + 7n, 100_000_000n)
  add(0n, 1_000_000_000n + 7n)
  add(10n ** 11n + 13n, 3n * 10n ** 9n)
  // Within 1e9 of 2^64: all 203 million primes below 2^32 are sieving primes.
  for (let i = 0; i < 2; i++) add(TOP - BigInt(Math.floor(random() * 1e9)), BigInt(Math.floor(random() * 1e6)))
  // Sieving primes up to 1e9 from the large-prime bitmap (chunk hand-overs: primes-high.test.ts).
  add(10n ** 18n - 123n, 20_000_000n)
  return list
}

describe('countRange against primesieve', () => {
  const version = primesieveVersion()

  it('finds primesieve (the differential oracle; .ci/run installs it)', () => {
    expect(version, 'primesieve is not on PATH').toMatch(/^primesieve /)
  })

  it.skipIf(version == null)('matches primesieve on 500+ random intervals in [0, 2^64)', { timeout: 180_000 }, async () => {
    const all = intervals()
    expect(all.length).toBeGreaterThanOrEqual(500)
    for (const interval of all) {
      const expected = oracle(interval)
      const got = countRange(interval.from, interval.to)
      const want = await expected
      const label = `[${interval.from}, ${interval.to}]`
      expect(got.count, label).toBe(want.count)
      if (want.sum != null) {
        expect(got.sum, label).toBe(want.sum)
        expect(got.first, label).toBe(want.first)
        expect(got.last, label).toBe(want.last)
      }
    }
  })
})
