import type { PreSieveKernel } from './wasm-crossing.ts'
import { RESIDUES } from './wheel.ts'

/**
 * Pre-sieving: the multiples of the smallest primes form periodic patterns in the mod-30 byte
 * layout (prime p repeats every p bytes), so instead of crossing them off one by one each
 * segment starts as the AND of a few precomputed patterns. Primes 7..163 are a large share of
 * all crossings (sum of 1/p), so this removes about half of the crossing work below 1e10
 * (going from 71 to 163, as primesieve does, cut pi(1e10) by about 10% even though the AND
 * reads 17 streams instead of 8).
 *
 * The AND runs in WebAssembly on 16-byte vectors (wasm-crossing.ts), over patterns copied
 * into the sieve's memory. Each pattern is stored for one period plus one block, so any block
 * reads one contiguous stretch.
 */
const PATTERN_GROUPS: readonly (readonly number[])[] = [
  [7, 11, 13], [17, 19], [23, 29], [31, 37], [41, 43], [47, 53], [59, 61], [67, 71],
  [73, 79], [83, 89], [97, 101], [103, 107], [109, 113], [127, 131], [137, 139], [149, 151],
  [157, 163]
]

/** Pattern streams the kernel ANDs (wasm-crossing.ts builds it with this many inputs). */
export const PRESIEVE_STREAMS = PATTERN_GROUPS.length

/** The primes whose multiples the patterns remove (themselves included). */
export const PRESIEVED_PRIMES: readonly number[] = PATTERN_GROUPS.flat()
export const LARGEST_PRESIEVED_PRIME = 163

/** Where a pattern lies in memory: one period (the product of its primes, in bytes) plus room for the largest block. */
interface Pattern {
  primes: readonly number[]
  periodBytes: number
  length: number
}

function patternsFor (maxBlockBytes: number): Pattern[] {
  return PATTERN_GROUPS.map((primes) => {
    const periodBytes = primes.reduce((a, b) => a * b, 1)
    return { primes, periodBytes, length: periodBytes + maxBlockBytes }
  })
}

/**
 * Writes a pattern's bytes in place (straight into the sieve's memory: no copy of about 1 MB
 * is kept): one period of `product` bytes, crossing off each prime's multiples directly (for
 * residue j, they sit every p bytes), then copies of that period.
 */
function fillPattern (bytes: Uint8Array, primes: readonly number[]): void {
  const product = primes.reduce((a, b) => a * b, 1)
  bytes.fill(0xff, 0, product)
  for (const p of primes) {
    for (let j = 0; j < 8; j++) {
      let first = 0
      while ((30 * first + RESIDUES[j]) % p !== 0) first++
      const clear = ~(1 << j)
      for (let i = first; i < product; i += p) bytes[i] &= clear
    }
  }
  for (let filled = product; filled < bytes.length; filled *= 2) bytes.copyWithin(filled, 0, Math.min(filled, bytes.length - filled))
}

/** Bytes of the table of stream addresses that precedes the patterns. */
const SOURCES_BYTES = 16 * Math.ceil(PRESIEVE_STREAMS / 4)

/** Bytes of memory PreSieve needs for blocks of up to maxBlockBytes. */
export function preSieveMemoryBytes (maxBlockBytes: number): number {
  const patternBytes = patternsFor(maxBlockBytes).reduce((sum, p) => sum + p.length, 0)
  // Rounded up so what follows stays aligned.
  return SOURCES_BYTES + 16 * Math.ceil(patternBytes / 16)
}

/** Writes the patterns into `memory` from byte `at` (preSieveMemoryBytes of room). */
export function writePreSievePatterns (memory: ArrayBuffer, at: number, maxBlockBytes: number): void {
  at += SOURCES_BYTES
  for (const pattern of patternsFor(maxBlockBytes)) {
    fillPattern(new Uint8Array(memory, at, pattern.length), pattern.primes)
    at += pattern.length
  }
}

export class PreSieve {
  private readonly patterns: Pattern[]
  /** Address of each pattern in the wasm memory. */
  private readonly addresses: number[] = []
  /** Byte offset of the next block inside each pattern's period. */
  private readonly offsets: Int32Array
  private readonly kernel: PreSieveKernel
  private readonly maxBlockBytes: number
  /** Where the kernel reads each pattern for the next block: an Int32Array in the wasm memory. */
  private readonly sources: Int32Array

  /**
   * Uses the patterns written into the wasm `memory` at byte `at` by writePreSievePatterns; the
   * `kernel` ANDs them 16 bytes at a time.
   */
  constructor (maxBlockBytes: number, memory: ArrayBuffer, at: number, kernel: PreSieveKernel) {
    this.maxBlockBytes = maxBlockBytes
    this.patterns = patternsFor(maxBlockBytes)
    this.sources = new Int32Array(memory, at, PRESIEVE_STREAMS)
    at += SOURCES_BYTES
    for (const pattern of this.patterns) {
      this.addresses.push(at)
      at += pattern.length
    }
    this.offsets = new Int32Array(this.patterns.length)
    this.kernel = kernel
  }

  /** Positions the patterns at absolute sieve byte `absoluteByte`. */
  seek (absoluteByte: bigint): void {
    for (let g = 0; g < this.patterns.length; g++) {
      this.offsets[g] = Number(absoluteByte % BigInt(this.patterns[g].periodBytes))
    }
  }

  /**
   * Writes the pre-sieved pattern into the sieve bytes [start, start + bytes) (start and
   * bytes multiples of 16, bytes <= maxBlockBytes), then advances past them.
   */
  fill (start: number, bytes: number): void {
    const o = this.offsets
    const sources = this.sources
    const end = start + bytes
    for (let at = start; at < end; at += this.maxBlockBytes) {
      const n = Math.min(this.maxBlockBytes, end - at)
      for (let k = 0; k < o.length; k++) {
        sources[k] = this.addresses[k] + o[k]
        o[k] = (o[k] + n) % this.patterns[k].periodBytes
      }
      this.kernel(at, n, sources.byteOffset)
    }
  }
}
