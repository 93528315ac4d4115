import { isqrt } from '../isqrt.ts'
import { BIT_OF_RESIDUE, BYTE_CARRY, CLEAR_MASK, COFACTOR_GAP, COPRIME_DELTA, RESIDUES, WHEEL_INDEX_AFTER } from '../primes/wheel.ts'
import { phiVector } from './phi.ts'
import { SHARD_ALIGN, type PiParameters } from './pi-parameters.ts'
import type { PiTables } from './pi-tables.ts'
import { WIDE_BASE } from './wide-number.ts'
import { kernelFor, SEGMENT_BYTES } from './hard-leaf-kernel.ts'
import type { FusedP2 } from './fused-p2.ts'

export { SHARD_ALIGN }

/** One segment: 32 KiB of sieve (983,040 numbers), the L1 data cache of the machines we run on. */
const SEGMENT_SPAN = 30 * SEGMENT_BYTES

/**
 * The sieve with 7, 11, 13, 17 and their multiples crossed off (1 kept) repeats every
 * 7 * 11 * 13 * 17 bytes: a segment starts as a copy of it, at its offset in the period.
 */
const PRESIEVE_PERIOD = 7 * 11 * 13 * 17
const PRESIEVE = new Uint8Array(PRESIEVE_PERIOD + SEGMENT_BYTES)
// Built by crossing off each prime's odd multiples coprime to 30 in one period, then copying
// the period on: a tenth of the work of testing every number, which every worker thread pays
// at start-up (pi(1e13) has about 0.3 s in all).
PRESIEVE.fill(0xff, 0, PRESIEVE_PERIOD)
for (const p of [7, 11, 13, 17]) {
  for (let n = p; n < 30 * PRESIEVE_PERIOD; n += 2 * p) {
    const bit = BIT_OF_RESIDUE[n % 30]
    if (bit >= 0) PRESIEVE[Math.floor(n / 30)] &= ~(1 << bit)
  }
}
for (let i = PRESIEVE_PERIOD; i < PRESIEVE.length; i += PRESIEVE_PERIOD) {
  PRESIEVE.copyWithin(i, 0, Math.min(PRESIEVE_PERIOD, PRESIEVE.length - i))
}

/** Bits of a sieve byte for residues <= r (r in 0..29). */
const UP_TO = new Int32Array(30)
for (let r = 0; r < 30; r++) {
  let mask = 0
  for (let j = 0; j < 8; j++) if (RESIDUES[j] <= r) mask |= 1 << j
  UP_TO[r] = mask
}

/**
 * floor(v / d) for a wide-or-narrow v (see wide-number.ts) and 1 <= d < 2^53: a double
 * estimate (off by at most one) corrected with exact divisions. Quotients above 2^32 are
 * returned as estimates: callers clamp them to y < 2^31 anyway.
 */
function divideByLarge (hi: number, lo: number, d: number): number {
  if (hi === 0) return Math.floor(lo / d)
  let q = Math.floor((hi * WIDE_BASE + lo) / d)
  if (q > 2 ** 32) return q
  // q is correct when q * d <= v < (q + 1) * d, i.e. v / q >= d > v / (q + 1).
  while (exactQuotient(hi, lo, q + 1) >= d) q++
  while (q > 0 && exactQuotient(hi, lo, q) < d) q--
  return q
}

function exactQuotient (hi: number, lo: number, d: number): number {
  const q1 = Math.floor(hi / d)
  return q1 * WIDE_BASE + Math.floor(((hi - q1 * d) * WIDE_BASE + lo) / d)
}

/**
 * The hard special leaves with t = x / (p_b * m) in [low, high): a segmented sieve of
 * Eratosthenes over [low, high) on the mod-30 wheel that removes p_b itself as well as its
 * multiples, so after crossing off p_1 .. p_(b-1) the live numbers up to t are
 * phi(t, b - 1) - phi(low - 1, b - 1). Live counts per block of words (the counters) make a
 * count cheap; within one b the leaves come in rising t, so each count resumes where the last
 * stopped. The shard starts from its phi vector and needs nothing else: it is a pure function
 * of (parameters, low, high), and the shards' sums add up to S2_hard in any order.
 * low and high are multiples of SHARD_ALIGN, or high = z. With `p2` (one pass over all of
 * [0, z) on one thread), every prime up to each segment's square root is crossed off too and
 * the segment, its live numbers then primes, goes to P2 (see fused-p2.ts).
 */
export function hardLeaves (params: PiParameters, tables: PiTables, low: number, high: number,
  onSegment?: (done: number) => void, p2?: FusedP2): bigint {
  const { y, z, c } = params
  if (high > z) high = z
  if (p2 != null && (low !== 0 || high !== z)) throw new RangeError('P2 rides only on a pass over all of [0, z)')
  if (low >= high) return 0n
  if (low % SHARD_ALIGN !== 0) throw new RangeError('a hard-leaf shard starts at a multiple of 240')
  const { primes, pi, xpHi, xpLo } = tables
  const piSqrtY = pi[Number(isqrt(BigInt(y)))]
  const piSqrtZ = pi[Number(isqrt(BigInt(z)))]
  const shardMaxB = maxBOf(params, pi, piSqrtZ, low)
  if (shardMaxB <= c && p2 == null) return 0n
  const phiB = phiVector(low, c, shardMaxB, tables)
  // The sieve, its counters and the crossing state live in the WebAssembly kernel's memory.
  const kernel = kernelFor(tables, piSqrtZ, UP_TO)
  const { composite, prime, compositeWide, primeWide, cross, crossPlain, countBlocks, prefixCounts, takeSum } = kernel.exports
  takeSum()

  // Each sieving prime p_b (3 < b < shardMaxB): its next multiple's byte (from the segment's
  // start) and the wheel index of that multiple's cofactor; per prime and wheel index, the
  // bit its multiple clears and the bytes to the next multiple.
  const { nextByte, wheel, step, bitIndex, sieve, words } = kernel
  const startCrossing = (b: number, from: number): void => {
    const p = primes[b]
    const m0 = Math.max(1, Math.ceil(from / p))
    const m = m0 + COPRIME_DELTA[m0 % 30]
    wheel[b] = WHEEL_INDEX_AFTER[m0 % 30]
    nextByte[b] = Math.floor(p * m / 30) - from / 30
    const q30 = Math.floor(p / 30)
    const row = 8 * residueIndex(p % 30)
    for (let k = 0; k < 8; k++) {
      step[8 * b + k] = q30 * COFACTOR_GAP[k] + BYTE_CARRY[row + k]
      bitIndex[8 * b + k] = 31 - Math.clz32(~CLEAR_MASK[row + k] & 0xff)
    }
  }
  for (let b = 4; b < shardMaxB; b++) startCrossing(b, low)
  // Every b below this was crossed off the last segment, so its position is current.
  let crossedTop = shardMaxB

  for (let segLow = low; segLow < high; segLow += SEGMENT_SPAN) {
    const segHigh = Math.min(segLow + SEGMENT_SPAN, high)
    const bytes = Math.ceil((segHigh - segLow) / 30)
    const wordCount = (bytes + 3) >> 2
    // Pre-sieved: 7, 11, 13 and 17 (p_4 .. p_c) and their multiples are off already.
    const start = (segLow / 30) % PRESIEVE_PERIOD
    sieve.set(PRESIEVE.subarray(start, start + bytes))
    sieve.fill(0, bytes, wordCount * 4)
    const lastOffset = segHigh - 1 - segLow - 30 * (bytes - 1)
    sieve[bytes - 1] &= UP_TO[lastOffset]
    const maxB = maxBOf(params, pi, piSqrtZ, segLow)
    if (maxB <= c && p2 == null) break
    // With P2 riding along, every prime up to the square root of the segment's top is
    // crossed off (b < top), so that the live numbers left are the segment's primes; those
    // above the leaves' own need (b >= maxB) start, or start again, from this segment.
    const top = p2 != null ? Math.max(maxB, pi[Number(isqrt(BigInt(segHigh - 1)))] + 1) : maxB
    for (let b = Math.max(crossedTop, 4); b < top; b++) startCrossing(b, segLow)
    // Counter blocks: about sqrt(the mean gap between leaves near segLow), in words.
    const blockShift = blockShiftFor(segLow)
    let total = maxB > c ? countBlocks(wordCount, blockShift) : 0
    const counterShift = blockShift + 2

    for (let b = c + 1; b <= maxB; b++) {
      const p = primes[b]
      const hi = xpHi[b]
      const lo = xpLo[b]
      const phiBase = phiB[b]
      // Leaves t = floor(xp / m) in [segLow, segHigh): m in (xp / segHigh, xp / segLow].
      const mBelowT = divideByLarge(hi, lo, segHigh)
      const mAtLow = segLow === 0 ? y : Math.min(y, divideByLarge(hi, lo, segLow))
      // Bounds past y mean no leaf; clamped, they fit the kernel's i32.
      if (b <= piSqrtY) {
        // m square-free, lpf(m) > p, y / p < m <= y; -mu(m) * phi(t, b - 1) each.
        const mLow = Math.min(y, Math.max(Math.floor(y / p), mBelowT))
        if (hi === 0) composite(p, lo, phiBase, mLow, mAtLow, segLow, blockShift, kernel.factorAt)
        else compositeWide(p, hi, lo, phiBase, mLow, mAtLow, segLow, blockShift, kernel.factorAt)
      } else {
        // m = q prime, p < q <= z / p (so t >= y): +phi(t, b - 1) each.
        const qLow = Math.min(y, Math.max(p, mBelowT))
        const qHigh = Math.min(mAtLow, Math.floor(z / p))
        if (qHigh > qLow) {
          if (hi === 0) prime(pi[qHigh], qLow, lo, phiBase, segLow, blockShift, kernel.primesAt)
          else primeWide(pi[qHigh], qLow, hi, lo, phiBase, segLow, blockShift, kernel.primesAt)
        }
      }
      phiB[b] = phiBase + total
      if (b < maxB) total -= cross(b, bytes, counterShift, kernel.nextAt, kernel.wheelAt, kernel.stepAt, kernel.bitAt)
    }
    if (p2 != null) {
      for (let b = Math.max(maxB, c + 1); b < top; b++) crossPlain(b, bytes, kernel.nextAt, kernel.wheelAt, kernel.stepAt, kernel.bitAt)
      const live = prefixCounts(wordCount)
      p2.segment(sieve, words, kernel.counters, live, segLow, bytes)
    }
    // The primes crossed here go on from the next segment's start; the others are not needed
    // again (maxB does not grow), or start afresh when P2 needs them (top grows).
    for (let b = 4; b < top; b++) nextByte[b] -= SEGMENT_BYTES
    crossedTop = top
    onSegment?.(segHigh - low)
  }
  // The kernel's i64: exact, a shard's sum being far below 2^63 in size.
  return takeSum()
}

/** The largest b with a leaf at or above `from`: p_b^2 < x / from (the leaf's m exceeds p_b). */
function maxBOf (params: PiParameters, pi: Int32Array, piSqrtZ: number, from: number): number {
  if (from === 0) return piSqrtZ
  return Math.min(piSqrtZ, pi[Math.min(params.y, Number(isqrt(params.x / BigInt(from))))])
}

function residueIndex (r: number): number {
  return RESIDUES.indexOf(r)
}

/** log2 of the counter block in 32-bit words: about sqrt(sqrt(low) * 240) numbers, 8 words at least. */
function blockShiftFor (low: number): number {
  const numbers = Math.sqrt(Math.sqrt(Math.max(low, 1)) * 240)
  const words = Math.max(8, numbers / 120)
  return Math.min(12, Math.round(Math.log2(words)))
}
