import { SegmentedSieve, SEGMENT_SHIFT } from './segmented-sieve.ts'
import { RESIDUES } from './wheel.ts'

/** Up to this bound a plain sieve in one array is cheap (1 MiB of flags at most). */
const PLAIN_SIEVE_LIMIT = 1 << 20

/**
 * The primes up to plainLimit, kept by the thread: every chunk of every shard needs a prefix
 * of them, and making them per chunk left about 1.5 MB of garbage each time (a busy worker's
 * memory grew with it until a full collection). They grow by powers of two up to 2^20
 * (82025 primes, 320 KB), so a small count does not sieve to 2^20.
 */
let plainPrimes: Uint32Array = new Uint32Array(0)
let plainLimit = 0

/** All primes <= limit (limit <= 2^20), ascending; shared and read-only: never write to it. */
export function primesUpTo (limit: number): Uint32Array {
  if (limit > PLAIN_SIEVE_LIMIT) throw new RangeError('primesUpTo is for limits up to 2^20')
  if (limit > plainLimit) {
    plainLimit = Math.min(PLAIN_SIEVE_LIMIT, 2 ** Math.max(16, Math.ceil(Math.log2(limit))))
    plainPrimes = plainSieve(plainLimit)
  }
  // How many primes are <= limit: binary search.
  let lo = 0
  let hi = plainPrimes.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (plainPrimes[mid] <= limit) lo = mid + 1
    else hi = mid
  }
  return plainPrimes.subarray(0, lo)
}

/** All primes <= limit by a plain odd-only sieve. */
function plainSieve (limit: number): Uint32Array {
  // composite[i] stands for 2i + 1.
  const composite = new Uint8Array((limit >> 1) + 1)
  let count = 1
  for (let p = 3; p * p <= limit; p += 2) {
    if (composite[p >> 1] !== 0) continue
    for (let m = p * p; m <= limit; m += 2 * p) composite[m >> 1] = 1
  }
  for (let n = 3; n <= limit; n += 2) if (composite[n >> 1] === 0) count++
  const primes = new Uint32Array(count)
  primes[0] = 2
  let size = 1
  for (let n = 3; n <= limit; n += 2) if (composite[n >> 1] === 0) primes[size++] = n
  return primes
}

/**
 * The sieving primes: every prime <= limit (< 2^32), ascending, in batches, so a
 * range near 2^64 (which needs all 203 million primes below 2^32) never holds them all at once.
 * A batch is only valid until the next one is requested (its buffer is reused).
 */
export function * sievingPrimes (limit: number): Generator<Uint32Array> {
  limit = Math.min(limit, 2 ** 32 - 1)
  if (limit <= PLAIN_SIEVE_LIMIT) {
    yield primesUpTo(limit)
    return
  }
  yield primesUpTo(PLAIN_SIEVE_LIMIT)
  // The rest by the segmented sieve itself, seeded with the primes up to 2^20 >= sqrt(limit).
  const firstByte = PLAIN_SIEVE_LIMIT / 30 >>> 2 << 2
  const sieve = new SegmentedSieve({
    low: BigInt(firstByte * 30),
    byteCount: Math.floor(limit / 30) - firstByte + 1,
    sievingPrimes: [primesUpTo(1 << 17)]
  })
  // Primes in one segment of y = 30 * 2^SEGMENT_SHIFT numbers: at most 2y / ln y
  // (Montgomery-Vaughan's Brun-Titchmarsh), about 1.9 million.
  const span = 30 * (1 << SEGMENT_SHIFT)
  const batch = new Uint32Array(Math.ceil(2 * span / Math.log(span)))
  try {
    // Signed words: bit 31 set would make a Uint32 read a non-int32 value and slow the loop.
    const words = new Int32Array(sieve.words.buffer, sieve.words.byteOffset, sieve.words.length)
    while (sieve.next()) {
      const wordCount = (sieve.segmentBytes + 3) >> 2
      let base = 30 * (firstByte + sieve.segment * (1 << SEGMENT_SHIFT))
      let size = 0
      scan: for (let w = 0; w < wordCount; w++, base += 120) {
        let bits = words[w]
        while (bits !== 0) {
          const p = base + OFFSET_OF_WORD_BIT[31 - Math.clz32(bits & -bits)]
          // Ascending, so the first one past the limit ends the range (and would not fit 32 bits).
          if (p > limit) break scan
          batch[size++] = p
          bits &= bits - 1
        }
      }
      // Only the first segment starts below 2^20.
      let start = 0
      while (start < size && batch[start] <= PLAIN_SIEVE_LIMIT) start++
      yield batch.subarray(start, size)
    }
  } finally {
    sieve.release()
  }
}

/** Offset from a 32-bit word's first number of the number its bit b stands for. */
const OFFSET_OF_WORD_BIT = new Int32Array(32)
for (let b = 0; b < 32; b++) OFFSET_OF_WORD_BIT[b] = 30 * (b >> 3) + RESIDUES[b & 7]
