import { isqrt } from '../isqrt.ts'
import { largeSievingPrimes, MASK_BYTES, type LargeSievingPrimes } from './large-primes.ts'
import { MEDIUM_PRIME_LIMIT, MIN_MEDIUM_PRIME_LIMIT, SegmentedSieve, SEGMENT_SHIFT } from './segmented-sieve.ts'
import { sievingPrimes } from './sieving-primes.ts'
import { RESIDUES } from './wheel.ts'

/** Prime bounds are exact in [0, 2^64). */
export const MAX_BOUND = (1n << 64n) - 1n

/** A range is sieved in chunks of at most this many bytes, so in-chunk offsets stay int32. */
const MAX_CHUNK_BYTES = 2 ** 30

/**
 * A sieving prime earns its place in the medium tier (placed in JavaScript once per chunk,
 * visited every segment) only with at least this many multiples in the chunk; with fewer, the
 * large tier (placed in WebAssembly, crossings queued) costs less. For 2 billion numbers this
 * gives MEDIUM_PRIME_LIMIT (lower limits made [1e13, 1e13 + 1e10] slower: 3.6 s of CPU with
 * 2.1 million, 3.0 s with 12.6 million); a narrow range gets a lower limit: [1e17, 1e17 + 2e8]
 * took about 15% less CPU with 1 million than with 12.6 million.
 */
const MEDIUM_MULTIPLES_PER_CHUNK = 160

/**
 * The medium tier's limit for the range [from, to]: primes below it are visited every segment,
 * the others (when sqrt(to) reaches it) go to the large tier.
 */
export function mediumLimitFor (from: bigint, to: bigint): number {
  const width = to - from + 1n
  const chunkNumbers = width < BigInt(30 * MASK_BYTES) ? Number(width) : 30 * MASK_BYTES
  const limit = Math.floor(chunkNumbers / MEDIUM_MULTIPLES_PER_CHUNK)
  return Math.min(MEDIUM_PRIME_LIMIT, Math.max(MIN_MEDIUM_PRIME_LIMIT, limit))
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
  const mediumLimit = mediumLimitFor(from, to)
  // The primes from mediumLimit on, made once per thread (large-primes.ts), crossed off a
  // chunk mask at a time; without them, chunks as wide as int32 offsets allow.
  const large: LargeSievingPrimes | null = sqrtTo < mediumLimit ? null : largeSievingPrimes(sqrtTo, MEDIUM_PRIME_LIMIT)
  const chunkBytes = large != null ? MASK_BYTES : MAX_CHUNK_BYTES
  let chunkLow = from / 120n * 120n
  while (chunkLow <= to) {
    const bytesLeft = (to - chunkLow) / 30n + 1n
    const byteCount = bytesLeft > BigInt(chunkBytes) ? chunkBytes : Number(bytesLeft)
    const chunkHigh = chunkLow + 30n * BigInt(byteCount) - 1n
    const sqrtChunk = Number(isqrt(chunkHigh < to ? chunkHigh : to))
    large?.crossOff(chunkLow, byteCount, mediumLimit, sqrtChunk)
    const sieve = new SegmentedSieve({
      low: chunkLow,
      byteCount,
      sievingPrimes: large != null ? [large.mediumPrimes(mediumLimit)] : sievingPrimes(sqrtChunk),
      mediumLimit: large != null ? mediumLimit : MEDIUM_PRIME_LIMIT
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
