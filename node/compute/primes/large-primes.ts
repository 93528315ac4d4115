import { primesUpTo } from './sieving-primes.ts'
import { SegmentedSieve, SEGMENT_SHIFT } from './segmented-sieve.ts'
import { BUFFERS_AT, largeBuffersBytes, REGION_SHIFT } from './wasm-cross-large.ts'
import { createSieveMemory, instantiateCrossing, writeWheelTables, type SieveKernels } from './wasm-crossing.ts'
import { BYTE_SPAN, RESIDUES } from './wheel.ts'

/**
 * Chunk mask: 2^MASK_SHIFT bytes = 4.03 billion numbers per chunk above the medium primes (the
 * widest whose offsets stay uint32). Each chunk places every large sieving prime once (a 64-bit
 * remainder each: 203 million near 2^64), so the chunk is as wide as that allows: near 2^64,
 * 64 MiB made a 1e10 range 2.3x faster than 16 MiB, and 128 MiB took 13% less CPU than 64 MiB
 * (3 chunks instead of 5). Only the part a range uses is touched.
 */
export const MASK_SHIFT = 27
export const MASK_BYTES = 1 << MASK_SHIFT

/** Bitmap bytes crossLarge scans per call (a multiple of 8): about 9,000 primes near 2^32. */
const BITMAP_BYTES_PER_CALL = 1 << 15

/** Largest sieving prime there is (below 2^32). */
const MAX_SIEVING_PRIME = 2 ** 32 - 1

/**
 * The sieving primes of a thread, made once and kept for every later range that needs no
 * more: a mod-30 bitmap of the primes up to `limit` (limit / 30 bytes: 143 MB for all primes
 * below 2^32, 10.5 MB at 1e17), the primes below `mediumLimit` as a list for the per-segment
 * tiers, and the chunk mask that crossLarge clears. Everything lives in one WebAssembly
 * memory with its own instance of the kernels.
 */
export class LargeSievingPrimes {
  readonly limit: number
  /** Primes from 7 up to mediumListedTo, ascending, made as far as a range has needed. */
  private medium: Uint32Array = new Uint32Array(0)
  private mediumListedTo = 0
  private readonly mediumLimit: number
  private readonly kernels: SieveKernels
  private readonly maskAt: number
  private readonly buffersAt: number
  private readonly fills: Int32Array
  private readonly bitmapAt: number
  private readonly maskWords: Int32Array
  private readonly maskBytes: Uint8Array
  private readonly bitmap: Uint8Array

  constructor (limit: number, mediumLimit: number) {
    this.limit = limit
    this.mediumLimit = mediumLimit
    const bitmapBytes = Math.floor(limit / BYTE_SPAN) + 1
    this.buffersAt = 4096
    this.maskAt = this.buffersAt + largeBuffersBytes(MASK_BYTES)
    this.bitmapAt = this.maskAt + MASK_BYTES + 4096
    const memory = createSieveMemory(this.bitmapAt + bitmapBytes + 64)
    writeWheelTables(memory, 0)
    this.kernels = instantiateCrossing(memory)
    this.maskBytes = new Uint8Array(memory, this.maskAt, MASK_BYTES)
    this.maskWords = new Int32Array(memory, this.maskAt, MASK_BYTES / 4)
    this.fills = new Int32Array(memory, this.buffersAt, MASK_BYTES >> REGION_SHIFT)
    this.bitmap = new Uint8Array(memory, this.bitmapAt, bitmapBytes)
    fillPrimeBitmap(this.bitmap)
  }

  /**
   * The primes below `below` (at most mediumLimit), ascending, for SegmentedSieve: listed from
   * the bitmap on first need only, since a narrow range needs few of them (about 95,000 of the
   * 820,000 below 12.6 million for [1e17, 1e17 + 2e8]).
   */
  mediumPrimes (below: number): Uint32Array {
    const last = Math.min(below, this.mediumLimit, this.limit + 1) - 1
    if (last > this.mediumListedTo) {
      this.medium = primesInBitmap(this.bitmap, last)
      this.mediumListedTo = last
    }
    return this.medium
  }

  /**
   * Clears in the mask the multiples in [low, low + 30 * byteCount) of the primes in
   * [minPrime, maxPrime] (maxPrime <= limit; minPrime <= mediumLimit: the caller sieves the
   * primes below minPrime).
   */
  crossOff (low: bigint, byteCount: number, minPrime: number, maxPrime: number): void {
    if (maxPrime > this.limit) throw new RangeError('maxPrime above the primes made')
    if (minPrime > this.mediumLimit) throw new RangeError('minPrime above the medium primes listed')
    this.maskBytes.fill(0xff, 0, (byteCount + 15) & ~15)
    if (maxPrime < minPrime) return
    const toByte = Math.floor(maxPrime / BYTE_SPAN) + 1
    const min = BigInt(minPrime)
    const max = BigInt(maxPrime)
    // Many short calls, not one long one: V8 runs a wasm function's first calls in its baseline
    // compiler and swaps in the optimised code (3-4x faster here) only for later calls.
    for (let from = Math.floor(minPrime / BYTE_SPAN) & ~7; from < toByte; from += BITMAP_BYTES_PER_CALL) {
      // Primes from half the chunk's numbers on (bitmap byte b holds numbers from 30 b) have
      // at most one multiple in it: a kernel without the loop for more.
      const cross = 2 * from >= byteCount ? this.kernels.crossLargeAtMostOne : this.kernels.crossLarge
      cross(this.bitmapAt, from, Math.min(toByte, from + BITMAP_BYTES_PER_CALL), min, max, low, byteCount, this.maskAt, 0, this.buffersAt)
    }
    const regionBytes = largeBuffersBytes(1 << REGION_SHIFT) - BUFFERS_AT
    for (let region = 0; region < this.fills.length; region++) {
      this.kernels.flushLarge(this.maskAt + (region << REGION_SHIFT), this.buffersAt + BUFFERS_AT + region * regionBytes, this.fills[region])
      this.fills[region] = 0
    }
  }

  /** ANDs the mask bytes from `maskByte` on into `words` (a segment; maskByte a multiple of 4). */
  applyTo (words: Int32Array, maskByte: number, byteCount: number): void {
    const mask = this.maskWords
    const at = maskByte >> 2
    const n = (byteCount + 3) >> 2
    for (let w = 0; w < n; w++) words[w] &= mask[at + w]
  }
}

let cached: LargeSievingPrimes | null = null

/**
 * The thread's sieving primes covering `limit`, made on first need. A larger limit later makes
 * them again, then with 1/8 to spare so a count climbing in height does not rebuild every shard.
 */
export function largeSievingPrimes (limit: number, mediumLimit: number): LargeSievingPrimes {
  if (cached == null || cached.limit < limit) {
    const headroom = cached == null ? 1 : 1.125
    cached = null
    cached = new LargeSievingPrimes(Math.min(MAX_SIEVING_PRIME, Math.ceil(limit * headroom)), mediumLimit)
  }
  return cached
}

/** Sets bitmap bit j of byte b iff 30 b + RESIDUES[j] is prime, for the whole bitmap. */
function fillPrimeBitmap (bitmap: Uint8Array): void {
  const sieve = new SegmentedSieve({ low: 0n, byteCount: bitmap.length, sievingPrimes: [primesUpTo(1 << 17)] })
  try {
    while (sieve.next()) bitmap.set(sieve.sieve.subarray(0, sieve.segmentBytes), sieve.segment << SEGMENT_SHIFT)
  } finally {
    sieve.release()
  }
}

/** The primes >= 7 and <= last in the bitmap, ascending. */
function primesInBitmap (bitmap: Uint8Array, last: number): Uint32Array {
  const bytes = Math.min(bitmap.length, Math.floor(last / BYTE_SPAN) + 1)
  let bound = 0
  for (let b = 0; b < bytes; b++) bound += BITS_IN_BYTE[bitmap[b]]
  const out = new Uint32Array(bound)
  let size = 0
  for (let b = 0; b < bytes; b++) {
    let v = bitmap[b]
    while (v !== 0) {
      const j = 31 - Math.clz32(v & -v)
      const p = BYTE_SPAN * b + RESIDUES[j]
      if (p > last) break
      out[size++] = p
      v &= v - 1
    }
  }
  return out.subarray(0, size)
}

const BITS_IN_BYTE = new Uint8Array(256)
for (let v = 1; v < 256; v++) BITS_IN_BYTE[v] = (v & 1) + BITS_IN_BYTE[v >> 1]
