import { isqrt } from '../isqrt.ts'
import { sieveSegments } from '../primes/range-sieve.ts'
import { popcount32, RESIDUES } from '../primes/wheel.ts'
import type { PiParameters } from './pi-parameters.ts'
import { toWide, wideDivide } from './wide-number.ts'

/** Primes p in (y, sqrt x] are taken from the top down in windows this wide, to bound memory. */
const WINDOW = 1 << 24

/** Bits of a sieve byte for residues <= r (r in 0..29). */
const UP_TO = new Int32Array(30)
for (let r = 0; r < 30; r++) {
  let mask = 0
  for (let j = 0; j < 8; j++) if (RESIDUES[j] <= r) mask |= 1 << j
  UP_TO[r] = mask
}

/**
 * P2(x, a) with a = pi(y): the n <= x with exactly two prime factors, both above y. It is the
 * sum over primes y < p <= sqrt x of pi(x / p) - pi(p) + 1. As p falls from sqrt x to y, x / p
 * rises through [sqrt x, z], which the prime sieve walks once, counting as it goes.
 */
export function p2 (params: PiParameters, piY: number): bigint {
  const { x, y, z } = params
  const sqrtX = Number(isqrt(x))
  if (sqrtX <= y) return 0n
  const { hi, lo } = toWide(x, params.narrowBelow)
  const quotient = (p: number): number => hi === 0 ? Math.floor(lo / p) : wideDivide(hi, lo, p)

  // p descending, in windows; x / p ascending.
  let windowTop = sqrtX
  // A window holds at most WINDOW / 2 primes; typed, so that collecting them stays cheap even
  // before the optimizing compiler has seen this code (pi(1e13) has no time to warm up).
  let ps = new Float64Array(0)
  let k = -1
  const nextP = (): number => {
    while (k < 0) {
      if (windowTop <= y) return 0
      const windowLow = Math.max(y + 1, windowTop - WINDOW + 1)
      if (ps.length === 0) ps = new Float64Array(Math.min(WINDOW, windowTop - windowLow + 1) / 2 + 3)
      let n = 0
      for (const segment of sieveSegments(BigInt(windowLow), BigInt(windowTop))) {
        const base = Number(segment.low)
        const sieve = segment.sieve
        for (let i = 0; i < segment.bytes; i++) {
          let v = sieve[i]
          while (v !== 0) {
            ps[n++] = base + 30 * i + RESIDUES[31 - Math.clz32(v & -v)]
            v &= v - 1
          }
        }
      }
      k = n - 1
      windowTop = windowLow - 1
    }
    return ps[k--]
  }

  // pi(x / p) = pi(sqrt x) + the primes in (sqrt x, x / p]: the loop adds up the second part
  // and counts the p, since pi(sqrt x) = pi(y) + their number is known only at the end (this
  // saves sieving (y, sqrt x] a second time to count them first).
  let total = 0n
  let partial = 0
  let count = 0
  let p = nextP()
  // x / p = sqrt x (p = sqrt x, prime) is counted by pi(sqrt x) itself.
  while (p !== 0 && quotient(p) <= sqrtX) { count++; p = nextP() }
  let before = 0
  if (p !== 0) {
    for (const segment of sieveSegments(BigInt(sqrtX) + 1n, BigInt(z))) {
      const low = Number(segment.low)
      const end = low + 30 * segment.bytes
      const words = segment.words
      let word = 0
      let counted = before
      while (p !== 0) {
        const t = quotient(p)
        if (t >= end) break
        const offset = t - low
        const byte = Math.floor(offset / 30)
        const w = byte >> 2
        while (word < w) counted += popcount32(words[word++])
        const shift = (byte & 3) * 8
        const mask = ((1 << shift) - 1) | (UP_TO[offset - byte * 30] << shift)
        partial += counted + popcount32(words[w] & mask)
        if (partial > 2 ** 51) { total += BigInt(partial); partial = 0 }
        count++
        p = nextP()
      }
      const n = (segment.bytes + 3) >> 2
      while (word < n) counted += popcount32(words[word++])
      before = counted
      if (p === 0) break
    }
  }
  const piSqrtX = BigInt(piY + count)
  // sum of -(i - 1) for i = a + 1 .. pi(sqrt x), i.e. -(a + ... + (pi(sqrt x) - 1)).
  const a = BigInt(piY)
  const closed = (piSqrtX - 1n) * piSqrtX / 2n - (a - 1n) * a / 2n
  return total + BigInt(partial) + BigInt(count) * piSqrtX - closed
}
