import { COPRIME_DELTA, WHEEL_INDEX_AFTER, BIT_OF_RESIDUE } from './wheel.ts'

const TWO_POW_52 = 2 ** 52

/** Integer square root of a non-negative bigint. */
export function isqrt (n: bigint): bigint {
  if (n < 2n) return n
  let x = BigInt(Math.floor(Math.sqrt(Number(n))))
  while (x * x > n) x--
  while ((x + 1n) * (x + 1n) <= n) x++
  return x
}

/**
 * Where a sieving prime p starts crossing off inside a range that begins at `low` (any value
 * below 2^64, a multiple of 30): the offset of its first multiple p * m >= max(low, p^2) with m
 * coprime to 30, and the wheel index of m.
 *
 * Everything stays in doubles: the one value above 2^53 is `low`, and low mod 30p (30p < 2^37)
 * is computed exactly by feeding `low` in 16-bit pieces, so no intermediate reaches 2^53.
 * low mod 30p rather than low mod p because it also gives floor(low / p) mod 30, i.e. which
 * wheel residue the first cofactor has.
 */
export class FirstMultiple {
  readonly low: bigint
  readonly lowNumber: number
  /** low < 2^52: low mod m is one floor division in doubles. */
  readonly exactAsNumber: boolean
  readonly high32: number
  readonly low32: number
  /** Primes above this have p^2 > low. */
  readonly sqrtLow: number
  /** Wheel index of the cofactor of the last offset() result. */
  wheel = 0

  constructor (low: bigint) {
    this.low = low
    this.lowNumber = Number(low)
    this.exactAsNumber = low < BigInt(TWO_POW_52)
    this.high32 = Number(low >> 32n)
    this.low32 = Number(low & 0xffffffffn)
    this.sqrtLow = Number(isqrt(low))
  }

  /** Offset from `low` of the first multiple to cross off; sets `wheel`. May be huge. */
  offset (p: number): number {
    if (p > this.sqrtLow) {
      this.wheel = BIT_OF_RESIDUE[p % 30]
      const square = p * p
      if (square < TWO_POW_52) return square - this.lowNumber
      return Number(BigInt(p) * BigInt(p) - this.low)
    }
    const m = 30 * p
    const r30 = this.exactAsNumber ? modNumber(this.lowNumber, m) : mod64(this.high32, this.low32, m)
    const t = Math.floor(r30 / p)
    const rem = r30 - t * p
    let cofactorResidue = t
    let offset = 0
    if (rem !== 0) {
      cofactorResidue = t === 29 ? 0 : t + 1
      offset = p - rem
    }
    this.wheel = WHEEL_INDEX_AFTER[cofactorResidue]
    return offset + COPRIME_DELTA[cofactorResidue] * p
  }
}

/** x mod m for 0 <= x < 2^53 and m < 2^37, exact. */
function modNumber (x: number, m: number): number {
  let r = x - Math.floor(x / m) * m
  if (r < 0) r += m
  else if (r >= m) r -= m
  return r
}

/** (high * 2^32 + low) mod m for 32-bit high and low and m < 2^37, exact. */
function mod64 (high: number, low: number, m: number): number {
  let r = modNumber(high, m)
  r = modNumber(r * 65536 + (low >>> 16), m)
  return modNumber(r * 65536 + (low & 0xffff), m)
}
