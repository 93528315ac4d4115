import { checkBounds, sieveSegments, type SievedSegment } from './range-sieve.ts'
import { BYTE_RESIDUE_SUM, RESIDUES } from './wheel.ts'

/** What a range of primes adds up to; replicas of one shard must agree on all of it. */
export interface RangeCount {
  count: bigint
  /** Sum of the primes mod 2^64. */
  sum: bigint
  first: bigint | null
  last: bigint | null
}

export interface CountOptions {
  /** Compute `sum`, `first` and `last` too (a little slower); default true. */
  details?: boolean
  /** Called now and then with how many numbers of the range are done. */
  onProgress?: (numbersDone: bigint) => void
}

const WHEEL_PRIMES = [2n, 3n, 5n]

/** Counts the primes in [from, to] (inclusive, 0 <= from, to < 2^64); from > to counts 0. */
export function countRange (from: bigint, to: bigint, options: CountOptions = {}): RangeCount {
  checkBounds(from, to)
  const details = options.details ?? true
  let count = 0n
  let sum = 0n
  let first: bigint | null = null
  let last: bigint | null = null
  for (const p of WHEEL_PRIMES) {
    if (p < from || p > to) continue
    count++
    sum += p
    first ??= p
    last = p
  }
  let segmentsSinceReport = 0
  for (const segment of sieveSegments(from, to)) {
    if (!details) {
      count += BigInt(segment.countPrimes())
    } else {
      const { n, relativeSum } = countAndSumSegment(segment)
      if (n === 0) continue
      count += BigInt(n)
      sum += BigInt(n) * segment.low + BigInt(relativeSum)
      first ??= segment.low + BigInt(firstOffset(segment))
      last = segment.low + BigInt(lastOffset(segment))
    }
    if (options.onProgress != null && ++segmentsSinceReport === 16) {
      segmentsSinceReport = 0
      const done = segment.low + 30n * BigInt(segment.bytes) - from
      options.onProgress(done < 0n ? 0n : done)
    }
  }
  return { count, sum: BigInt.asUintN(64, sum), first, last }
}

const countAndSum = { n: 0, relativeSum: 0 }

/**
 * Prime count of a segment and the sum of (prime - segment.low), word by word: per-byte
 * popcounts come out of the SWAR popcount's middle step, and multiplying them by 0x00010203
 * adds up byte-index x count in the top byte; a 256-entry table adds the residues.
 */
function countAndSumSegment (segment: SievedSegment): typeof countAndSum {
  const words = segment.words
  const n = (segment.bytes + 3) >> 2
  let count = 0
  let wordIndexTimesCount = 0
  let byteIndexTimesCount = 0
  let residues = 0
  for (let i = 0; i < n; i++) {
    const w = words[i]
    if (w === 0) continue
    let x = w - ((w >>> 1) & 0x55555555)
    x = (x & 0x33333333) + ((x >>> 2) & 0x33333333)
    x = (x + (x >>> 4)) & 0x0f0f0f0f
    const c = Math.imul(x, 0x01010101) >>> 24
    count += c
    wordIndexTimesCount += i * c
    byteIndexTimesCount += Math.imul(x, 0x00010203) >>> 24
    residues += BYTE_RESIDUE_SUM[w & 0xff] + BYTE_RESIDUE_SUM[(w >>> 8) & 0xff] +
      BYTE_RESIDUE_SUM[(w >>> 16) & 0xff] + BYTE_RESIDUE_SUM[w >>> 24]
  }
  countAndSum.n = count
  countAndSum.relativeSum = 30 * (4 * wordIndexTimesCount + byteIndexTimesCount) + residues
  return countAndSum
}

/** Offset from segment.low of its first prime (the segment has one). */
function firstOffset (segment: SievedSegment): number {
  const sieve = segment.sieve
  let i = 0
  while (sieve[i] === 0) i++
  const v = sieve[i]
  return 30 * i + RESIDUES[31 - Math.clz32(v & -v)]
}

/** Offset from segment.low of its last prime (the segment has one). */
function lastOffset (segment: SievedSegment): number {
  const sieve = segment.sieve
  let i = segment.bytes - 1
  while (sieve[i] === 0) i--
  return 30 * i + RESIDUES[31 - Math.clz32(sieve[i])]
}
