/**
 * Deterministic Miller-Rabin for safe integers (n < 2^53) in plain Number arithmetic. The
 * scheduler checks the first and last prime of every shard it receives, so this path avoids
 * BigInt, whose every operation allocates.
 *
 * The hard part is a·b mod n when a·b exceeds 2^53: doubles cannot hold the product. Two
 * exact ways are used: below 2^32 the multiplier is split in 16-bit halves so each partial
 * product stays below 2^49; above, Dekker's two-product holds a·b exactly as two doubles.
 */

const TWO_POW_16 = 65536
const TWO_POW_32 = 4294967296
/** Veltkamp's splitter 2^27 + 1 cuts a double into two halves of at most 26 bits each. */
const SPLITTER = 134217729

/** Bases {2, 7, 61} are deterministic below 4,759,123,141 (Jaeschke 1993). */
const BASES_BELOW_4759123141 = [2, 7, 61]
export const SMALL_BASES_LIMIT = 4759123141
/** Sinclair's seven bases are deterministic for every n < 2^64, so also below 2^53. */
export const SINCLAIR_BASES = [2, 325, 9375, 28178, 450775, 9780504, 1795265022]

/**
 * a·b mod n for 0 ≤ a, b < n < 2^32. Each partial product stays below 2^49, and
 * x - floor(x/n)·n is exact for x < 2^53 (the quotient of two such doubles never rounds up
 * to the next integer), which is cheaper than the remainder operator on doubles.
 */
export function mulMod32 (a: number, b: number, n: number): number {
  let x = a * (b >>> 16)
  x -= Math.floor(x / n) * n
  x = x * TWO_POW_16 + a * (b & 0xffff)
  return x - Math.floor(x / n) * n
}

/**
 * a·b mod n for 0 ≤ a, b < n < 2^53, given n split as nHi + nLo by splitHigh.
 * Dekker's two-product gives a·b = hi + lo and q·n = s + f exactly; with q = floor(hi/n),
 * hi - s is exact (the two are within a factor of two), |lo|, |f| < n, and
 * a·b - q·n = (hi - s) + (lo - f), each part in (-2n, 2n). Normalizing each part into
 * [0, n) before adding keeps every intermediate below 2^53, so nothing rounds.
 */
export function mulMod53 (a: number, b: number, n: number, nHi: number, nLo: number): number {
  const hi = a * b
  if (hi <= Number.MAX_SAFE_INTEGER) return hi - Math.floor(hi / n) * n
  let t = SPLITTER * a
  const aHi = t - (t - a)
  const aLo = a - aHi
  t = SPLITTER * b
  const bHi = t - (t - b)
  const bLo = b - bHi
  const lo = ((aHi * bHi - hi) + aHi * bLo + aLo * bHi) + aLo * bLo
  const q = Math.floor(hi / n)
  const s = q * n
  t = SPLITTER * q
  const qHi = t - (t - q)
  const qLo = q - qHi
  const f = ((qHi * nHi - s) + qHi * nLo + qLo * nHi) + qLo * nLo
  const x = reduceBelowTwiceN(hi - s, n)
  const y = reduceBelowTwiceN(lo - f, n)
  const r = x - (n - y)
  return r < 0 ? r + n : r
}

/** The high half of Veltkamp's split of n (n - splitHigh(n) is the low half). */
export function splitHigh (n: number): number {
  const t = SPLITTER * n
  return t - (t - n)
}

/** x mod n for an integer x in (-2n, 2n). */
function reduceBelowTwiceN (x: number, n: number): number {
  if (x < 0) {
    x += n
    return x < 0 ? x + n : x
  }
  if (x >= n) {
    x -= n
    return x >= n ? x - n : x
  }
  return x
}

/** Strong probable-prime test of odd n (3 < n < 2^32) to base a, with n - 1 = d·2^s. */
function strongProbablePrime32 (n: number, a: number, d: number, s: number): boolean {
  const base = a % n
  if (base === 0) return true
  let x = 1
  let power = base
  for (let e = d; e > 0; e >>>= 1) {
    if ((e & 1) === 1) x = mulMod32(x, power, n)
    power = mulMod32(power, power, n)
  }
  const minusOne = n - 1
  if (x === 1 || x === minusOne) return true
  for (let i = 1; i < s; i++) {
    x = mulMod32(x, x, n)
    if (x === minusOne) return true
    if (x === 1) return false
  }
  return false
}

/** Strong probable-prime test of odd n (2^32 ≤ n < 2^53) to base a, with n - 1 = d·2^s. */
function strongProbablePrime53 (n: number, a: number, d: number, s: number): boolean {
  const base = a % n
  if (base === 0) return true
  const nHi = splitHigh(n)
  const nLo = n - nHi
  let x = 1
  let power = base
  // d may pass 2^32, so halve with division rather than shifts.
  for (let e = d; e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) x = mulMod53(x, power, n, nHi, nLo)
    power = mulMod53(power, power, n, nHi, nLo)
  }
  const minusOne = n - 1
  if (x === 1 || x === minusOne) return true
  for (let i = 1; i < s; i++) {
    x = mulMod53(x, x, n, nHi, nLo)
    if (x === minusOne) return true
    if (x === 1) return false
  }
  return false
}

/**
 * Deterministic Miller-Rabin for an odd n with 3 < n ≤ 2^53 - 1 that has no tiny factor
 * (trial division is the caller's job). Exact for every such n.
 */
export function millerRabinNumber (n: number): boolean {
  let d = n - 1
  let s = 0
  while (d % 2 === 0) {
    d /= 2
    s++
  }
  if (n < TWO_POW_32) {
    for (const a of BASES_BELOW_4759123141) {
      if (!strongProbablePrime32(n, a, d, s)) return false
    }
    return true
  }
  const bases = n < SMALL_BASES_LIMIT ? BASES_BELOW_4759123141 : SINCLAIR_BASES
  for (const a of bases) {
    if (!strongProbablePrime53(n, a, d, s)) return false
  }
  return true
}
