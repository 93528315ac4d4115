import { sieveSegments } from './range-sieve.ts'
import { RESIDUES } from './wheel.ts'

/** Primes of one sieved segment: `base + offsets[i]` for i < length, ascending. */
export interface PrimeBatch {
  base: bigint
  offsets: Uint32Array
  length: number
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER)

/**
 * The primes in [from, to] in order, one batch per sieve segment (at most ~1M primes, a few
 * MB), so a caller can stream any range in bounded memory. A batch is only valid until the
 * next one is requested (its buffer is reused).
 */
export function * primeBatches (from: bigint, to: bigint): Generator<PrimeBatch> {
  let offsets = new Uint32Array(1024)
  // 2, 3 and 5 are not on the wheel.
  const wheelPrimes = Uint32Array.from([2, 3, 5].filter((p) => BigInt(p) >= from && BigInt(p) <= to))
  if (wheelPrimes.length > 0) yield { base: 0n, offsets: wheelPrimes, length: wheelPrimes.length }
  for (const segment of sieveSegments(from, to)) {
    const { sieve, bytes } = segment
    if (offsets.length < bytes * 8) offsets = new Uint32Array(bytes * 8)
    let length = 0
    for (let i = 0; i < bytes; i++) {
      let v = sieve[i]
      while (v !== 0) {
        offsets[length++] = 30 * i + RESIDUES[31 - Math.clz32(v & -v)]
        v &= v - 1
      }
    }
    if (length > 0) yield { base: segment.low, offsets, length }
  }
}

/** Decimal lines ("p\n" each) for a batch; uses doubles when every value is below 2^53. */
export function formatPrimeBatch (batch: PrimeBatch): string {
  const { base, offsets, length } = batch
  if (length === 0) return ''
  const parts = new Array<string>(length)
  if (base + BigInt(offsets[length - 1]) <= SAFE) {
    const b = Number(base)
    for (let i = 0; i < length; i++) parts[i] = String(b + offsets[i])
  } else {
    for (let i = 0; i < length; i++) parts[i] = String(base + BigInt(offsets[i]))
  }
  return parts.join('\n') + '\n'
}

/** Every prime in [from, to] as a bigint, in order (simple; primeBatches is the fast path). */
export function * listPrimes (from: bigint, to: bigint): Generator<bigint> {
  for (const batch of primeBatches(from, to)) {
    for (let i = 0; i < batch.length; i++) yield batch.base + BigInt(batch.offsets[i])
  }
}
