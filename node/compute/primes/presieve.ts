import type { PreSieveKernel } from './wasm-crossing.ts'
import { RESIDUES } from './wheel.ts'

/**
 * Pre-sieving: the multiples of the smallest primes form periodic patterns in the mod-30 byte
 * layout (prime p repeats every p bytes), so instead of crossing them off one by one each
 * segment starts as the AND of a few precomputed patterns. Primes 7..71 are a large share of
 * all crossings (sum of 1/p), so this removes about 40% of the crossing work below 1e10.
 *
 * The AND runs in WebAssembly on 16-byte vectors (wasm-crossing.ts), over patterns written
 * into the sieve's memory. Each pattern is stored for one period (4 x the product of its
 * primes, so that it is whole 4-byte words) plus one piece, so any piece reads one contiguous
 * stretch; a block is filled piece by piece.
 */
const PATTERN_GROUPS: readonly (readonly number[])[] = [
  [7, 11, 13], [17, 19], [23, 29], [31, 37],
  [41, 43], [47, 53], [59, 61], [67, 71]
]

/** The primes whose multiples the patterns remove (themselves included). */
export const PRESIEVED_PRIMES: readonly number[] = PATTERN_GROUPS.flat()
export const LARGEST_PRESIEVED_PRIME = 71

/**
 * Bytes the kernel fills per call, and the room each pattern keeps past its period. Each
 * pattern used to keep room for a whole 128 KiB block: 1.1 MB of patterns, resident in every
 * busy worker; with 16 KiB pieces they take 194 KB, and the calls, eight per block instead of
 * one, cost nothing measurable (a piece is 1024 vector ANDs of eight patterns).
 */
export const PRESIEVE_PIECE_BYTES = 16 * 1024

/** Where a pattern lies in memory: one period (4 x the product of its primes, in bytes) plus one piece. */
interface Pattern {
  primes: readonly number[]
  periodBytes: number
  length: number
}

const PATTERNS: readonly Pattern[] = PATTERN_GROUPS.map((primes) => {
  const periodBytes = 4 * primes.reduce((a, b) => a * b, 1)
  return { primes, periodBytes, length: periodBytes + PRESIEVE_PIECE_BYTES }
})

/** Writes a pattern's bytes in place (straight into the sieve's memory: no copy of about 1 MB is kept). */
function fillPattern (bytes: Uint8Array, primes: readonly number[]): void {
  const product = primes.reduce((a, b) => a * b, 1)
  // The bits of one period of `product` bytes, then copies of it.
  for (let i = 0; i < product; i++) {
    let v = 0
    for (let j = 0; j < 8; j++) {
      const n = 30 * i + RESIDUES[j]
      let coprime = true
      for (const p of primes) if (n % p === 0) coprime = false
      if (coprime) v |= 1 << j
    }
    bytes[i] = v
  }
  for (let filled = product; filled < bytes.length; filled *= 2) bytes.copyWithin(filled, 0, Math.min(filled, bytes.length - filled))
}

/** Bytes of memory the patterns take. */
export const PRESIEVE_MEMORY_BYTES = PATTERNS.reduce((sum, p) => sum + p.length, 0)

/** Writes the patterns into `memory` from byte `at` (PRESIEVE_MEMORY_BYTES of room). */
export function writePreSievePatterns (memory: ArrayBuffer, at: number): void {
  for (const pattern of PATTERNS) {
    fillPattern(new Uint8Array(memory, at, pattern.length), pattern.primes)
    at += pattern.length
  }
}

export class PreSieve {
  /** Address of each pattern in the wasm memory. */
  private readonly addresses: number[] = []
  /** Byte offset of the next block inside each pattern's period. */
  private readonly offsets: Int32Array
  private readonly kernel: PreSieveKernel

  /**
   * Uses the patterns written into the wasm memory at byte `at` by writePreSievePatterns; the
   * `kernel` ANDs them 16 bytes at a time.
   */
  constructor (at: number, kernel: PreSieveKernel) {
    for (const pattern of PATTERNS) {
      this.addresses.push(at)
      at += pattern.length
    }
    this.offsets = new Int32Array(PATTERNS.length)
    this.kernel = kernel
  }

  /** Positions the patterns at absolute sieve byte `absoluteByte`. */
  seek (absoluteByte: bigint): void {
    for (let g = 0; g < PATTERNS.length; g++) {
      this.offsets[g] = Number(absoluteByte % BigInt(PATTERNS[g].periodBytes))
    }
  }

  /**
   * Writes the pre-sieved pattern into the sieve bytes [start, start + bytes) (start and
   * bytes multiples of 16), then advances past them.
   */
  fill (start: number, bytes: number): void {
    const o = this.offsets
    const a = this.addresses
    const end = start + bytes
    for (let at = start; at < end; at += PRESIEVE_PIECE_BYTES) {
      const piece = Math.min(PRESIEVE_PIECE_BYTES, end - at)
      this.kernel(at, piece, a[0] + o[0], a[1] + o[1], a[2] + o[2], a[3] + o[3], a[4] + o[4], a[5] + o[5], a[6] + o[6], a[7] + o[7])
      for (let k = 0; k < o.length; k++) o[k] = (o[k] + piece) % PATTERNS[k].periodBytes
    }
  }
}
