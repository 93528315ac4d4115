import { Buckets } from './buckets.ts'
import { crossMediumPrimes, crossSmallPrimes, SievingPrimeList } from './cross-small.ts'
import { FirstMultiple, isqrt } from './first-multiple.ts'
import { LARGEST_PRESIEVED_PRIME, PRESIEVED_PRIMES, PreSieve } from './presieve.ts'
import { BIT_OF_RESIDUE, BYTE_SPAN, WHEEL_INDEX_OF_MULTIPLE } from './wheel.ts'

/**
 * Segment size: 2^SEGMENT_SHIFT bytes. Small primes are crossed off in L1-sized blocks of the
 * segment; a larger segment means fewer segments, so each medium and bucketed prime is visited
 * less often. 128 KiB (3.9M numbers) stays well inside the 1 MiB L2 of the target machine.
 */
export const SEGMENT_SHIFT = 17
/** The L1 data cache is 32 KiB per core here; leave room for the wheel tables and patterns. */
const L1_BLOCK_BYTES = 128 * 1024
/** Primes below this many bytes get the unrolled loop (each has >= 8 multiples per block). */
const SMALL_PRIME_LIMIT = 32 * 1024
/** Primes below this are visited every segment; above it, they wait in buckets. */
const MEDIUM_PRIME_LIMIT = 3 << SEGMENT_SHIFT

export interface SegmentedSieveInit {
  /** First number of the range; a multiple of 120, so 4-byte blocks stay aligned. */
  low: bigint
  /** The range is low .. low + 30 * byteCount - 1; byteCount < 2^31. */
  byteCount: number
  /** Ascending primes covering at least 7 .. sqrt(last number); extra ones are ignored. */
  sievingPrimes: Iterable<Uint32Array>
}

/** Upper bound of pi(x) for sizing arrays (Rosser-Schoenfeld, x >= 17; padded below). */
function primeCountBound (x: number): number {
  if (x < 100) return 30
  return Math.ceil(1.26 * x / Math.log(x))
}

/**
 * A segmented sieve of Eratosthenes over one range. After each next(), `sieve` holds the
 * current segment: bit j of byte i set means `segmentLow + 30 i + RESIDUES[j]` is prime
 * (for numbers >= 7; the caller handles 2, 3 and 5). Bytes past `segmentBytes` are junk.
 */
export class SegmentedSieve {
  readonly sieve: Uint8Array
  readonly words: Uint32Array
  /** Index of the current segment; its first byte is `segment << SEGMENT_SHIFT`. */
  segment = -1
  /** Valid bytes in the current segment. */
  segmentBytes = 0
  readonly segmentCount: number
  private readonly byteCount: number
  private readonly low: bigint
  private readonly preSieve: PreSieve
  private readonly small: SievingPrimeList
  private readonly medium: SievingPrimeList
  private readonly buckets: Buckets

  constructor (init: SegmentedSieveInit) {
    const { low, byteCount } = init
    if (low % 120n !== 0n) throw new RangeError('low must be a multiple of 120')
    if (!(byteCount > 0 && byteCount < 2 ** 31)) throw new RangeError('byteCount out of range')
    this.low = low
    this.byteCount = byteCount
    this.segmentCount = Math.ceil(byteCount / (1 << SEGMENT_SHIFT))
    this.sieve = new Uint8Array(1 << SEGMENT_SHIFT)
    this.words = new Uint32Array(this.sieve.buffer)
    this.preSieve = new PreSieve(L1_BLOCK_BYTES)
    this.preSieve.seek(low / 30n)

    const high = low + BigInt(BYTE_SPAN) * BigInt(byteCount) - 1n
    const sqrtHigh = Number(isqrt(high))
    this.small = new SievingPrimeList(primeCountBound(Math.min(sqrtHigh, SMALL_PRIME_LIMIT)), true)
    this.medium = new SievingPrimeList(primeCountBound(Math.min(sqrtHigh, MEDIUM_PRIME_LIMIT)), false)
    this.buckets = new Buckets(this.segmentCount)
    this.placeSievingPrimes(init.sievingPrimes, sqrtHigh)
    // this.small.groupByResidue()
  }

  /** Bytes held by this sieve's arrays (the bucket pool dominates for large ranges). */
  get memoryBytes (): number {
    return this.sieve.byteLength + this.buckets.bytes + this.small.q.length * 10 + this.medium.q.length * 10
  }

  /**
   * Files each sieving prime under the tier that will cross it off, at its first multiple
   * p * m >= max(low, p^2) with m coprime to 30 (offset from low, and m's wheel index). Primes
   * without a multiple in the range are dropped. Near 2^64 this runs for 203 million primes
   * per range, so the arithmetic is inline and uses one division per prime.
   */
  private placeSievingPrimes (batches: Iterable<Uint32Array>, sqrtHigh: number): void {
    const first = new FirstMultiple(this.low)
    const sqrtLow = first.sqrtLow
    // low = lowAbove20 * 2^20 + lowBelow20: reducing it mod p (< 2^32) in these two pieces
    // keeps every intermediate below 2^53, so doubles are exact.
    const lowAbove20 = Number(this.low >> 20n)
    const lowBelow20 = Number(this.low & 0xfffffn)
    const limitOffset = BYTE_SPAN * this.byteCount
    const shift = SEGMENT_SHIFT
    const inSegment = (1 << shift) - 1
    for (const batch of batches) {
      for (let j = 0; j < batch.length; j++) {
        const p = batch[j]
        if (p <= LARGEST_PRESIEVED_PRIME) continue
        if (p > sqrtHigh) return
        let offset: number
        let wheel: number
        if (p > sqrtLow) {
          // p^2 > low: start at p^2.
          offset = first.offset(p)
          wheel = first.wheel
        } else {
          const inverse = 1 / p
          let r = lowAbove20 - Math.floor(lowAbove20 * inverse) * p
          if (r < 0) r += p; else if (r >= p) r -= p
          r = r * 1048576 + lowBelow20
          r -= Math.floor(r * inverse) * p
          if (r < 0) r += p; else if (r >= p) r -= p
          offset = r === 0 ? 0 : p - r
          if (offset >= limitOffset) continue
          // The multiple low + offset is p * m; step to the first m coprime to 30 (<= 6 steps).
          const pResidue = p % 30
          let residue = offset - Math.floor(offset / 30) * 30
          while (BIT_OF_RESIDUE[residue] < 0) {
            offset += p
            residue += pResidue
            if (residue >= 30) residue -= 30
          }
          wheel = WHEEL_INDEX_OF_MULTIPLE[pResidue * 30 + residue]
        }
        if (offset >= limitOffset) continue
        const byte = Math.floor(offset / BYTE_SPAN)
        if (p < SMALL_PRIME_LIMIT) {
          this.small.add(p, byte, wheel)
        } else if (p < MEDIUM_PRIME_LIMIT) {
          this.medium.add(p, byte, wheel)
        } else {
          const q = Math.floor(p / 30)
          this.buckets.push(byte >>> shift, (q << 3) | BIT_OF_RESIDUE[p - 30 * q], ((byte & inSegment) << 3) | wheel)
        }
      }
    }
  }

  /** Sieves the next segment; false when the range is done. */
  next (): boolean {
    const segment = ++this.segment
    if (segment >= this.segmentCount) return false
    const fullBytes = 1 << SEGMENT_SHIFT
    const bytes = Math.min(fullBytes, this.byteCount - segment * fullBytes)
    this.segmentBytes = bytes
    const paddedBytes = (bytes + 3) & ~3
    const sieve = this.sieve
    for (let start = 0; start < paddedBytes; start += L1_BLOCK_BYTES) {
      const end = Math.min(start + L1_BLOCK_BYTES, paddedBytes)
      this.preSieve.fill(this.words, start >> 2, (end - start) >> 2)
      crossSmallPrimes(sieve, end, this.small)
    }
    crossMediumPrimes(sieve, paddedBytes, this.medium)
    this.buckets.crossOff(segment, sieve, SEGMENT_SHIFT, this.segmentCount - 1)
    this.small.shift(fullBytes)
    this.medium.shift(fullBytes)
    if (segment === 0 && this.low === 0n) restoreSmallestNumbers(sieve)
    return true
  }
}

/** In the segment starting at 0: 1 is not prime, and pre-sieving removed 7..71 themselves. */
function restoreSmallestNumbers (sieve: Uint8Array): void {
  sieve[0] &= ~1
  for (const p of PRESIEVED_PRIMES) sieve[Math.floor(p / 30)] |= 1 << BIT_OF_RESIDUE[p % 30]
}

