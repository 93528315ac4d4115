/**
 * Whole numbers up to 2^64 held in doubles, so the hot loops of pi(x) never touch BigInt.
 *
 * A value v is a pair (hi, lo) with v = hi * 2^21 + lo and 0 <= lo < 2^21, or, when v < 2^52,
 * the "narrow" pair (0, v). floor(v / d) for d < 2^32 is then two exact double divisions:
 * hi < 2^43 divides exactly, and its remainder (< d) times 2^21 plus lo stays below 2^53.
 * Why 2^52 for narrow values: floor(v / d) by one double division is exact when v + d < 2^53
 * (the rounded quotient can only reach the next integer when d * (q + 1) >= 2^53).
 */
export const WIDE_BASE = 2 ** 21
const WIDE_BASE_BIG = 1n << 21n
export const NARROW_LIMIT = 2 ** 52

export interface WideNumber { hi: number, lo: number }

export function toWide (v: bigint, narrowLimit = NARROW_LIMIT): WideNumber {
  if (v < BigInt(Math.min(narrowLimit, NARROW_LIMIT))) return { hi: 0, lo: Number(v) }
  return { hi: Number(v / WIDE_BASE_BIG), lo: Number(v % WIDE_BASE_BIG) }
}

/** floor((hi * 2^21 + lo) / d) for a wide pair (hi > 0) and 1 <= d < 2^32; the quotient must be < 2^53. */
export function wideDivide (hi: number, lo: number, d: number): number {
  const q1 = Math.floor(hi / d)
  const r1 = hi - q1 * d
  return q1 * WIDE_BASE + Math.floor((r1 * WIDE_BASE + lo) / d)
}

/** floor(v / d) of a pair (narrow or wide); the quotient must be < 2^53. */
export function divide (hi: number, lo: number, d: number): number {
  return hi === 0 ? Math.floor(lo / d) : wideDivide(hi, lo, d)
}
