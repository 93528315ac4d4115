import { SegmentedSieve, SEGMENT_SHIFT } from './segmented-sieve.ts'
import { RESIDUES } from './wheel.ts'

/** Up to this bound a plain sieve in one array is cheap (1 MiB of flags at most). */
const PLAIN_SIEVE_LIMIT = 1 << 20

/** All primes <= limit (limit <= 2^20), by a plain odd-only sieve. */
export function primesUpTo (limit: number): Uint32Array {
  if (limit > PLAIN_SIEVE_LIMIT) throw new RangeError('primesUpTo is for limits up to 2^20')
  if (limit < 2) return new Uint32Array(0)
  // composite[i] stands for 2i + 1.
  const composite = new Uint8Array((limit >> 1) + 1)
  for (let p = 3; p * p <= limit; p += 2) {
    if (composite[p >> 1] !== 0) continue
    for (let m = p * p; m <= limit; m += 2 * p) composite[m >> 1] = 1
  }
  const primes: number[] = [2]
  for (let n = 3; n <= limit; n += 2) if (composite[n >> 1] === 0) primes.push(n)
  return Uint32Array.from(primes)
}

/**
 * The sieving primes: every prime <= limit (limit < 2^32 + 2^17), ascending, in batches, so a
 * range near 2^64 (which needs all 203 million primes below 2^32) never holds them all at once.
 */
export function * sievingPrimes (limit: number): Generator<Uint32Array> {
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
  const batch = new Uint32Array(8 << SEGMENT_SHIFT)
  while (sieve.next()) {
    const bytes = sieve.sieve
    const n = sieve.segmentBytes
    let base = 30 * (firstByte + sieve.segment * (1 << SEGMENT_SHIFT))
    let size = 0
    for (let i = 0; i < n; i++, base += 30) {
      let v = bytes[i]
      while (v !== 0) {
        const bit = 31 - Math.clz32(v & -v)
        v &= v - 1
        const p = base + RESIDUES[bit]
        if (p > PLAIN_SIEVE_LIMIT && p <= limit) batch[size++] = p
      }
    }
    yield batch.subarray(0, size)
  }
}
