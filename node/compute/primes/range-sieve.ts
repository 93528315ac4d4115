import { isqrt } from '../isqrt.ts'
import { largeSievingPrimes, MASK_BYTES, type LargeSievingPrimes } from './large-primes.ts'
import { MEDIUM_PRIME_LIMIT, SegmentedSieve, SEGMENT_SHIFT } from './segmented-sieve.ts'
import { sievingPrimes } from './sieving-primes.ts'
import { RESIDUES } from './wheel.ts'

/** Prime bounds are exact in [0, 2^64). */
export const MAX_BOUND = (1n << 64n) - 1n

/** A range is sieved in chunks of at most this many bytes, so in-chunk offsets stay int32. */
const MAX_CHUNK_BYTES = 2 ** 30

/**
 * Chunk size in bytes for ranges whose sieving primes go up to `sqrtHigh`: as wide as int32
 * offsets allow while every sieving prime is visited each segment, else one chunk mask of the
 * large primes (large-primes.ts).
 */
export function chunkBytesFor (sqrtHigh: number): number {
  return sqrtHigh < MEDIUM_PRIME_LIMIT ? MAX_CHUNK_BYTES : MASK_BYTES
}

/** One sieved segment: bit j of byte i set <=> `low + 30 i + RESIDUES[j]` is a prime in range. */
export interface SievedSegment {
  sieve: Uint8Array
  /** The same memory as 32-bit words; words past `bytes` are zero. */
  words: Uint32Array
  bytes: number
  /** The primes in the segment (its set bits), counted in WebAssembly. */
  countPrimes: () => number
  /** A multiple of 30 (exact, may exceed 2^53). */
  low: bigint
}

export function checkBounds (from: bigint, to: bigint): void {
  if (from < 0n || to > MAX_BOUND) throw new RangeError('prime bounds must lie in [0, 2^64)')
}

/**
 * Sieves [from, to] and yields its segments in order, edges masked, so callers only count or
 * read bits. Covers the primes >= 7; 2, 3 and 5 are not representable in the wheel and are
 * the caller's. The yielded arrays are reused: read them before asking for the next one.
 */
export function * sieveSegments (from: bigint, to: bigint): Generator<SievedSegment> {
  checkBounds(from, to)
  if (from < 7n) from = 7n
  if (from > to) return
  const sqrtTo = Number(isqrt(to))
  const chunkBytes = chunkBytesFor(sqrtTo)
  // The primes from MEDIUM_PRIME_LIMIT on, made once per thread (large-primes.ts).
  const large: LargeSievingPrimes | null = sqrtTo < MEDIUM_PRIME_LIMIT ? null : largeSievingPrimes(sqrtTo, MEDIUM_PRIME_LIMIT)
  let chunkLow = from / 120n * 120n
  while (chunkLow <= to) {
    const bytesLeft = (to - chunkLow) / 30n + 1n
    const byteCount = bytesLeft > BigInt(chunkBytes) ? chunkBytes : Number(bytesLeft)
    const chunkHigh = chunkLow + 30n * BigInt(byteCount) - 1n
    const sqrtChunk = Number(isqrt(chunkHigh < to ? chunkHigh : to))
    large?.crossOff(chunkLow, byteCount, sqrtChunk)
    const sieve = new SegmentedSieve({
      low: chunkLow,
      byteCount,
      sievingPrimes: large != null ? [large.mediumPrimes] : sievingPrimes(sqrtChunk)
    })
    try {
      const words = new Int32Array(sieve.words.buffer, sieve.words.byteOffset, sieve.words.length)
      while (sieve.next()) {
        const low = chunkLow + BigInt(sieve.segment * 30) * BigInt(1 << SEGMENT_SHIFT)
        let bytes = sieve.segmentBytes
        large?.applyTo(words, sieve.segment << SEGMENT_SHIFT, bytes)
        if (low < from) clearBelow(sieve.sieve, Number(from - low))
        if (low + 30n * BigInt(bytes) > to) bytes = clearAbove(sieve.sieve, Number(to - low))
        const padded = (bytes + 7) & ~7
        sieve.sieve.fill(0, bytes, padded)
        yield { sieve: sieve.sieve, words: sieve.words, bytes, low, countPrimes: () => sieve.countBits(padded) }
      }
    } finally {
      sieve.release()
    }
    chunkLow += 30n * BigInt(byteCount)
  }
}

/** Clears the bits of numbers below low + offset (offset small: the range start). */
function clearBelow (sieve: Uint8Array, offset: number): void {
  for (let i = 0; 30 * i < offset; i++) {
    for (let j = 0; j < 8; j++) {
      if (30 * i + RESIDUES[j] < offset) sieve[i] &= ~(1 << j)
    }
  }
}

/** Clears the bits of numbers above low + offset; returns the byte count still in range. */
function clearAbove (sieve: Uint8Array, offset: number): number {
  const last = Math.floor(offset / 30)
  for (let j = 0; j < 8; j++) {
    if (30 * last + RESIDUES[j] > offset) sieve[last] &= ~(1 << j)
  }
  return last + 1
}
