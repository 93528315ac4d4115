import { isqrt } from '../isqrt.ts'
import { l1DataCacheBytes, l2CacheBytes } from './cache-size.ts'
import { SievingPrimeList } from './sieving-prime-list.ts'
import { createSieveMemory, instantiateCrossing, writeWheelTables, WHEEL_TABLES_BYTES, type SieveKernels } from './wasm-crossing.ts'
import { SquareStart } from './first-multiple.ts'
import { LARGEST_PRESIEVED_PRIME, PRESIEVED_PRIMES, PreSieve, preSieveMemoryBytes, writePreSievePatterns } from './presieve.ts'
import { BIT_OF_RESIDUE, BYTE_SPAN, COFACTOR_STEP, STEPPED_WHEEL_INDEX } from './wheel.ts'

/**
 * Segment size: 2^SEGMENT_SHIFT bytes, half the L2 cache (from 256 KiB to 1 MiB). With a 1 MiB
 * L2 (pi(3e9) and [1e13, 1e13 + 2e9] on one core), 512 KiB beat 128 and 256 KiB, mostly
 * because more primes stay in the cheap medium tier; with a 2 MiB L2, 1 MiB segments took 15%
 * less CPU than 512 KiB for [1e13, 1e13 + 4e9], 6% less near 2^64, the same for pi(1e10), 2
 * MiB ones 3% less than 512 KiB.
 */
export const SEGMENT_SHIFT = Math.min(20, Math.max(18, Math.floor(Math.log2(l2CacheBytes() / 2))))
/**
 * Small primes are crossed off block by block, all of them per block, a block the size of the
 * L1 data cache. Measured on a 48 KiB L1 (pi(1e10), one core): 48 KiB 1.34 s of CPU, 32 KiB
 * 1.43, 64 KiB 1.56, 96 KiB 1.85 (an earlier kernel, which paid a mispredicted jump more per
 * prime and block, had been fastest with 128 KiB blocks on a 32 KiB L1).
 */
const L1_BLOCK_BYTES = l1DataCacheBytes()
/**
 * The pre-sieve ANDs its patterns into the segment this many bytes at a time: each pattern is
 * kept as one period plus one such block, so the smaller the block, the more of the patterns
 * stay in the L2 cache.
 */
const PRESIEVE_BLOCK_BYTES = 16 * 1024
/** Primes below this get the unrolled loop block by block (8 or more multiples per block). */
const SMALL_PRIME_LIMIT = 32 * 1024
/**
 * Primes from SMALL_PRIME_LIMIT to this one get the unrolled loop too, once per segment (4 or
 * more periods of 30 multiples each): pi(1e10) took 7% less CPU than with the one-at-a-time
 * loop of the medium primes. Larger ones made no difference at 1e13.
 */
const MID_PRIME_LIMIT = 128 * 1024
/**
 * Address of the segment in the wasm memory: below it, scratch bytes that crossSmall may
 * write to (the period of a prime p may start up to p bytes before the segment).
 */
const SEGMENT_AT = MID_PRIME_LIMIT
/**
 * Primes below this at most are visited every segment (a few ns each even without a
 * multiple); the larger ones are not this class's: range-sieve.ts crosses them off chunk by
 * chunk with large-primes.ts and ANDs the result into each segment. A narrow range sets a
 * lower limit (SegmentedSieveInit.mediumLimit), never below the next one. 12.6 million (24
 * segments of 512 KiB); with 1 MiB segments near 2^64, 25.2 million took 3% more CPU and 6.3
 * million about the same.
 */
export const MEDIUM_PRIME_LIMIT = 24 << 19
export const MIN_MEDIUM_PRIME_LIMIT = MID_PRIME_LIMIT

export interface SegmentedSieveInit {
  /** First number of the range; a multiple of 120, so 4-byte blocks stay aligned. */
  low: bigint
  /** The range is low .. low + 30 * byteCount - 1; byteCount < 2^31. */
  byteCount: number
  /**
   * Ascending primes covering at least 7 .. min(sqrt(last number), mediumLimit - 1); extra
   * ones are ignored, and so are those from mediumLimit on.
   */
  sievingPrimes: Iterable<Uint32Array>
  /** In [MIN_MEDIUM_PRIME_LIMIT, MEDIUM_PRIME_LIMIT]; MEDIUM_PRIME_LIMIT when omitted. */
  mediumLimit?: number
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
  private readonly mid: SievingPrimeList
  private readonly medium: SievingPrimeList
  private readonly kernels: SieveKernels
  private workspace: Workspace | null
  private readonly tablesAt: number

  constructor (init: SegmentedSieveInit) {
    const { low, byteCount } = init
    if (low % 120n !== 0n) throw new RangeError('low must be a multiple of 120')
    if (!(byteCount > 0 && byteCount < 2 ** 31)) throw new RangeError('byteCount out of range')
    this.low = low
    this.byteCount = byteCount
    this.segmentCount = Math.ceil(byteCount / (1 << SEGMENT_SHIFT))
    const segmentBytes = 1 << SEGMENT_SHIFT
    const high = low + BigInt(BYTE_SPAN) * BigInt(byteCount) - 1n
    const sqrtHigh = Number(isqrt(high))
    // The segment and the small primes live in WebAssembly memory, for the wasm crossing loop.
    const smallCapacity = primeCountBound(Math.min(sqrtHigh, SMALL_PRIME_LIMIT))
    const midCapacity = primeCountBound(Math.min(sqrtHigh, MID_PRIME_LIMIT))
    const mediumLimit = init.mediumLimit ?? MEDIUM_PRIME_LIMIT
    if (!(mediumLimit >= MIN_MEDIUM_PRIME_LIMIT && mediumLimit <= MEDIUM_PRIME_LIMIT)) throw new RangeError('mediumLimit out of range')
    const mediumCapacity = primeCountBound(Math.min(sqrtHigh, mediumLimit))
    const workspace = acquireWorkspace(16 * (smallCapacity + midCapacity + mediumCapacity))
    this.workspace = workspace
    const memory = workspace.memory
    this.tablesAt = workspace.tablesAt
    this.sieve = new Uint8Array(memory, SEGMENT_AT, segmentBytes)
    this.words = new Uint32Array(memory, SEGMENT_AT, segmentBytes / 4)
    this.kernels = workspace.kernels
    this.small = new SievingPrimeList(smallCapacity, true, { buffer: memory, byteOffset: workspace.listsAt })
    this.mid = new SievingPrimeList(midCapacity, true, { buffer: memory, byteOffset: workspace.listsAt + 16 * smallCapacity })
    this.medium = new SievingPrimeList(mediumCapacity, false, { buffer: memory, byteOffset: workspace.listsAt + 16 * (smallCapacity + midCapacity) })
    this.preSieve = new PreSieve(PRESIEVE_BLOCK_BYTES, memory, workspace.patternsAt, this.kernels.preSieve)
    this.preSieve.seek(low / 30n)

    this.placeSievingPrimes(init.sievingPrimes, Math.min(sqrtHigh, mediumLimit - 1))
    this.small.groupByResidue()
    this.mid.groupByResidue()
  }

  /**
   * Files each sieving prime up to `lastPrime` under the tier that will cross it off, at its
   * first multiple p * m >= max(low, p^2) with m coprime to 30 (offset from low, and m's wheel
   * index). Primes without a multiple in the range are dropped.
   */
  private placeSievingPrimes (batches: Iterable<Uint32Array>, lastPrime: number): void {
    const squareStart = new SquareStart(this.low)
    const sqrtLow = squareStart.sqrtLow
    // low = lowAbove20 * 2^20 + lowBelow20: reducing it mod p (< 2^32) in these two pieces
    // keeps every intermediate below 2^53, so doubles are exact.
    const lowAbove20 = Number(this.low >> 20n)
    const lowBelow20 = Number(this.low & 0xfffffn)
    const limitOffset = BYTE_SPAN * this.byteCount
    for (const batch of batches) {
      for (let j = 0; j < batch.length; j++) {
        const p = batch[j]
        if (p <= LARGEST_PRESIEVED_PRIME) continue
        if (p > lastPrime) return
        let offset: number
        let wheel: number
        if (p > sqrtLow) {
          // p^2 > low: start at p^2.
          offset = squareStart.offset(p)
          wheel = squareStart.wheel(p)
        } else {
          const inverse = 1 / p
          let r = lowAbove20 - Math.floor(lowAbove20 * inverse) * p
          if (r < 0) r += p; else if (r >= p) r -= p
          r = r * 1048576 + lowBelow20
          r -= Math.floor(r * inverse) * p
          if (r < 0) r += p; else if (r >= p) r -= p
          offset = r === 0 ? 0 : p - r
          if (offset >= limitOffset) continue
          // The multiple low + offset is p * m; step to the first m coprime to 30 (a table, not
          // a loop whose exit would be a mispredicted branch for most primes).
          const x = (p % 30) * 30 + offset - Math.floor(offset / 30) * 30
          offset += COFACTOR_STEP[x] * p
          wheel = STEPPED_WHEEL_INDEX[x]
        }
        if (offset >= limitOffset) continue
        const byte = SEGMENT_AT + Math.floor(offset / BYTE_SPAN)
        if (p < SMALL_PRIME_LIMIT) this.small.add(p, byte, wheel)
        else if (p < MID_PRIME_LIMIT) this.mid.add(p, byte, wheel)
        else this.medium.add(p, byte, wheel)
      }
    }
  }

  private crossSmallPrimes (end: number, small: SievingPrimeList): void {
    this.kernels.crossSmall(end, small.size, small.q.byteOffset, small.rIndex.byteOffset, small.position.byteOffset, small.wheel.byteOffset)
  }

  private crossMediumPrimes (end: number): void {
    const medium = this.medium
    this.kernels.crossMedium(end, medium.size, medium.q.byteOffset, medium.rIndex.byteOffset, medium.position.byteOffset, medium.wheel.byteOffset, this.tablesAt)
  }

  /** The set bits of the segment's first `bytes` bytes (a multiple of 8). */
  countBits (bytes: number): number {
    return this.kernels.countBits(SEGMENT_AT, bytes)
  }

  /** Hands the memory back for the next sieve of this thread; call once done with it. */
  release (): void {
    if (this.workspace != null) releaseWorkspace(this.workspace)
    this.workspace = null
  }

  /** Sieves the next segment; false when the range is done. */
  next (): boolean {
    const segment = ++this.segment
    if (segment >= this.segmentCount) return false
    const fullBytes = 1 << SEGMENT_SHIFT
    const bytes = Math.min(fullBytes, this.byteCount - segment * fullBytes)
    this.segmentBytes = bytes
    // Whole 16-byte vectors for the pre-sieve (the segment buffer is a multiple of 16).
    const paddedBytes = (bytes + 15) & ~15
    const sieve = this.sieve
    for (let start = 0; start < paddedBytes; start += L1_BLOCK_BYTES) {
      const end = Math.min(start + L1_BLOCK_BYTES, paddedBytes)
      this.preSieve.fill(SEGMENT_AT + start, end - start)
      this.crossSmallPrimes(SEGMENT_AT + end, this.small)
    }
    this.crossSmallPrimes(SEGMENT_AT + paddedBytes, this.mid)
    this.crossMediumPrimes(SEGMENT_AT + paddedBytes)
    this.small.shift(fullBytes)
    this.mid.shift(fullBytes)
    this.medium.shift(fullBytes)
    if (segment === 0 && this.low <= BigInt(LARGEST_PRESIEVED_PRIME)) restoreSmallestNumbers(sieve, Number(this.low))
    return true
  }
}

/**
 * The WebAssembly memory and kernels of a sieve: scratch bytes, the segment at SEGMENT_AT, then the wheel
 * tables, the pre-sieve patterns (copied once), then the small, mid and medium prime lists.
 * Creating one costs about a millisecond (half a MiB of patterns to write), which would dominate
 * tiny ranges, so each thread keeps its last one for the next sieve.
 */
interface Workspace {
  memory: ArrayBuffer
  kernels: SieveKernels
  tablesAt: number
  patternsAt: number
  listsAt: number
  listBytes: number
}

let spareWorkspace: Workspace | null = null

function acquireWorkspace (listBytes: number): Workspace {
  const spare = spareWorkspace
  if (spare != null && spare.listBytes >= listBytes) {
    spareWorkspace = null
    return spare
  }
  const tablesAt = SEGMENT_AT + (1 << SEGMENT_SHIFT)
  const patternsAt = tablesAt + WHEEL_TABLES_BYTES
  const listsAt = patternsAt + preSieveMemoryBytes(PRESIEVE_BLOCK_BYTES)
  // Round the lists up so a workspace serves many ranges of similar size.
  const roundedListBytes = Math.max(1 << 16, 2 ** Math.ceil(Math.log2(listBytes)))
  const memory = createSieveMemory(listsAt + roundedListBytes)
  writeWheelTables(memory, tablesAt)
  writePreSievePatterns(memory, patternsAt, PRESIEVE_BLOCK_BYTES)
  return { memory, kernels: instantiateCrossing(memory), tablesAt, patternsAt, listsAt, listBytes: roundedListBytes }
}

function releaseWorkspace (workspace: Workspace): void {
  if (spareWorkspace == null || spareWorkspace.listBytes < workspace.listBytes) spareWorkspace = workspace
}

/**
 * In a first segment starting at `low` (0 or 120, the multiples of 120 up to the largest
 * pre-sieved prime): pre-sieving removed the pre-sieved primes themselves, and 1 is not prime.
 */
function restoreSmallestNumbers (sieve: Uint8Array, low: number): void {
  if (low === 0) sieve[0] &= ~1
  for (const p of PRESIEVED_PRIMES) {
    if (p >= low) sieve[Math.floor((p - low) / 30)] |= 1 << BIT_OF_RESIDUE[p % 30]
  }
}

