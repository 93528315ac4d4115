import type { PiParameters } from './pi-parameters.ts'
import { toWide } from './wide-number.ts'

/**
 * The factor table's top value: a prime stores it (mu = -1, lpf "infinite"), 1 stores it less
 * one (mu = +1). Any other square-free m stores lpf(m) - 1 when mu(m) = +1 and lpf(m) when
 * mu(m) = -1 (odd: lpf is an odd prime); a non-square-free m stores 0. So `factor > p`
 * alone says "square-free with every prime factor above p", and the low bit gives mu.
 */
export const FACTOR_PRIME = 0x7fffffff

/** Every table one computation of pi(x) needs, built from y alone (a few hundred ms at y = 1e7). */
export interface PiTables {
  /** primes[1..] = 2, 3, 5, ... up to y; primes[0] = 0 (1-based like p_b), one sentinel above y. */
  primes: Float64Array
  /** pi(y). */
  piY: number
  /** pi[t] for 0 <= t <= y. */
  pi: Int32Array
  /** The factor code of each odd m <= y, at m >> 1 (see FACTOR_PRIME). */
  factor: Int32Array
  /** floor(x / p_b) for each b <= pi(y) as wide pairs (see wide-number.ts). */
  xpHi: Float64Array
  xpLo: Float64Array
  /** 1 / p_b, for divisions by a multiply and an exact fix-up. */
  inverses: Float64Array
}

export function buildTables (params: PiParameters): PiTables {
  const { y, x } = params
  const composite = new Uint8Array(y + 1)
  const pi = new Int32Array(y + 1)
  // Room for pi(y) primes (pi(n) < 1.26 n / ln n for n > 1), a sentinel and primes[0].
  const room = new Float64Array(Math.floor(1.26 * Math.max(y, 3) / Math.log(Math.max(y, 3))) + 3)
  let count = 0
  for (let n = 2; n <= y; n++) {
    if (composite[n] === 0) {
      room[++count] = n
      if (n <= y / n) for (let m = n * n; m <= y; m += n) composite[m] = 1
    }
    pi[n] = count
  }
  const piY = count
  // A sentinel: the first prime above y (at most 2y, Bertrand), so loops can read p_{b+1}.
  let next = y + 1
  while (!isPrime(next)) next++
  room[piY + 1] = next
  // A copy of the exact length: the room holds some 15% more (the primes take 33 MB at the top).
  const primes = room.slice(0, piY + 2)
  const factor = buildFactorTable(y, primes, piY)
  const xpHi = new Float64Array(piY + 1)
  const xpLo = new Float64Array(piY + 1)
  const { hi, lo } = toWide(x, params.narrowBelow)
  if (hi === 0) {
    // x below 2^52: one double division is exact (x + p < 2^53), no BigInt per prime.
    for (let b = 1; b <= piY; b++) xpLo[b] = Math.floor(lo / primes[b])
  } else {
    for (let b = 1; b <= piY; b++) {
      const w = toWide(x / BigInt(primes[b]), params.narrowBelow)
      xpHi[b] = w.hi
      xpLo[b] = w.lo
    }
  }
  const inverses = new Float64Array(primes.length)
  for (let b = 1; b < primes.length; b++) inverses[b] = 1 / primes[b]
  return { primes, piY, pi, factor, xpHi, xpLo, inverses }
}

function isPrime (n: number): boolean {
  if (n < 2) return false
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false
  return true
}

/** mu and least prime factor of each odd m <= y in one code per number (see FACTOR_PRIME). */
function buildFactorTable (y: number, primes: Float64Array, piY: number): Int32Array {
  const half = (y >> 1) + 1
  const lpf = new Int32Array(half)
  const mu = new Int8Array(half).fill(1)
  for (let b = 2; b <= piY; b++) {
    const p = primes[b]
    for (let m = p; m <= y; m += 2 * p) {
      const i = m >> 1
      if (lpf[i] === 0) lpf[i] = p
      mu[i] = -mu[i]
    }
    if (p <= y / p) for (let m = p * p; m <= y; m += 2 * p * p) mu[m >> 1] = 0
  }
  const factor = new Int32Array(half)
  factor[0] = FACTOR_PRIME - 1
  for (let i = 1; i < half; i++) {
    const m = 2 * i + 1
    if (mu[i] === 0) factor[i] = 0
    else if (lpf[i] === m) factor[i] = FACTOR_PRIME
    else factor[i] = mu[i] === 1 ? lpf[i] - 1 : lpf[i]
  }
  return factor
}

