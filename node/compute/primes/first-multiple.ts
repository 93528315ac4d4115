import { isqrt } from '../isqrt.ts'
import { BIT_OF_RESIDUE } from './wheel.ts'

const TWO_POW_52 = 2 ** 52

/**
 * Where sieving primes whose square lies above `low` start: at p^2 (smaller multiples have a
 * smaller prime factor, crossed off by that one). The usual case, p^2 <= low, is inline in
 * SegmentedSieve.placeSievingPrimes.
 */
export class SquareStart {
  private readonly low: bigint
  private readonly lowNumber: number
  /** Primes above this have p^2 > low. */
  readonly sqrtLow: number

  constructor (low: bigint) {
    this.low = low
    this.lowNumber = Number(low)
    this.sqrtLow = Number(isqrt(low))
  }

  /** Offset of p^2 from low (p > sqrtLow); may be huge. Doubles are exact below 2^52. */
  offset (p: number): number {
    const square = p * p
    if (square < TWO_POW_52) return square - this.lowNumber
    return Number(BigInt(p) * BigInt(p) - this.low)
  }

  /** Wheel index of the cofactor p of p^2. */
  wheel (p: number): number {
    return BIT_OF_RESIDUE[p % 30]
  }
}
