/** A plain sieve of Eratosthenes up to `limit`: the reference the fast sieve is checked against. */
export function referenceIsPrime (limit: number): Uint8Array {
  const isPrime = new Uint8Array(limit + 1).fill(1)
  isPrime[0] = 0
  if (limit >= 1) isPrime[1] = 0
  for (let p = 2; p * p <= limit; p++) {
    if (isPrime[p] === 0) continue
    for (let m = p * p; m <= limit; m += p) isPrime[m] = 0
  }
  return isPrime
}

export interface ReferenceCount {
  count: bigint
  sum: bigint
  first: bigint | null
  last: bigint | null
}

export function referenceCount (isPrime: Uint8Array, from: number, to: number): ReferenceCount {
  let count = 0n
  let sum = 0n
  let first: bigint | null = null
  let last: bigint | null = null
  for (let n = from; n <= to; n++) {
    if (isPrime[n] === 0) continue
    count++
    sum += BigInt(n)
    first ??= BigInt(n)
    last = BigInt(n)
  }
  return { count, sum, first, last }
}

/** A small deterministic PRNG (mulberry32) so failures replay. */
export function seededRandom (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
