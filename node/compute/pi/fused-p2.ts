import { isqrt } from '../isqrt.ts'
import { popcount32, RESIDUES } from '../primes/wheel.ts'
import type { PiParameters } from './pi-parameters.ts'

/**
 * Counts up to which P2 rides on the hard-leaf sieve (see FusedP2): the primes of (y, sqrt x]
 * are kept, 2.6 MB at most below this bound, and x is a narrow number (one double division).
 */
const FUSED_BELOW = 10n ** 14n

/** Bits of a sieve byte for residues <= r (r in 0..29). */
const UP_TO = new Int32Array(30)
for (let r = 0; r < 30; r++) {
  let mask = 0
  for (let j = 0; j < 8; j++) if (RESIDUES[j] <= r) mask |= 1 << j
  UP_TO[r] = mask
}

/**
 * P2(x, pi(y)) computed inside the one pass of the hard-leaf sieve over [0, z) that a count on
 * one thread makes (see hardLeaves), instead of by a prime sieve of its own over [y, z]: the
 * hard-leaf pass crosses off every prime up to sqrt of each segment's top as well (most of them
 * it crosses anyway), so the live numbers of a segment are its primes. The pass hands each
 * segment over in order: from (y, sqrt x] this keeps the primes p, and from (sqrt x, z) it
 * answers pi(x / p) for p from the largest down, x / p rising with the pass. For pi(1e13) this
 * saves the prime sieve's start-up and its second sieve of most of [0, z).
 *
 * pi(x / p) = pi(sqrt x) + (primes in (sqrt x, x / p]), and pi(sqrt x) = pi(y) + the number
 * of p: the pass adds up the second parts and counts the p, and `value` adds the rest.
 */
export class FusedP2 {
  private readonly y: number
  private readonly sqrtX: number
  /** x, below 2^52. */
  private readonly x: number
  private readonly piY: number
  /** The primes of (y, sqrt x], ascending. */
  private primes: Uint32Array
  private kept = 0
  /** Next p to answer for, an index into `primes` going down; -1 before the first query segment. */
  private next = -1
  private answered = false
  /** Primes in (sqrt x, the current segment's low). */
  private before = 0
  private partial = 0
  private total = 0n

  static fits (params: PiParameters): boolean {
    return params.x < FUSED_BELOW && params.narrowBelow === undefined
  }

  constructor (params: PiParameters, piY: number) {
    this.y = params.y
    this.sqrtX = Number(isqrt(params.x))
    this.x = Number(params.x)
    this.piY = piY
    const span = Math.max(0, this.sqrtX - this.y)
    // Primes of (y, sqrt x], at most 1.26 n / ln n below n.
    this.primes = new Uint32Array(Math.min(span, Math.floor(1.26 * this.sqrtX / Math.log(Math.max(3, this.sqrtX)))) + 2)
  }

  /**
   * The segment [low, low + 30 bytes) of the pass, its live numbers now its primes (those
   * above its square root); before[w] = its live numbers in words 0 .. w - 1, `live` in all.
   */
  segment (sieve: Uint8Array, words: Uint32Array, before: Int32Array, live: number, low: number, bytes: number): void {
    const end = low + 30 * bytes
    if (this.sqrtX <= this.y) return
    if (low <= this.sqrtX && end > this.y + 1) this.keep(sieve, low, bytes)
    if (end > this.sqrtX + 1) this.answer(words, before, live, low, end)
  }

  private keep (sieve: Uint8Array, low: number, bytes: number): void {
    const from = this.y + 1
    const to = this.sqrtX
    const first = Math.max(0, Math.floor((from - low) / 30))
    const last = Math.min(bytes - 1, Math.floor((to - low) / 30))
    for (let i = first; i <= last; i++) {
      let v = sieve[i]
      while (v !== 0) {
        const n = low + 30 * i + RESIDUES[31 - Math.clz32(v & -v)]
        if (n >= from && n <= to) this.primes[this.kept++] = n
        v &= v - 1
      }
    }
  }

  private answer (words: Uint32Array, before: Int32Array, live: number, low: number, end: number): void {
    const { x, sqrtX, primes } = this
    if (this.next < 0 && !this.answered) {
      this.answered = true
      this.next = this.kept - 1
      // x / p = sqrt x (p = sqrt x, prime) adds no primes above sqrt x.
      while (this.next >= 0 && Math.floor(x / primes[this.next]) <= sqrtX) this.next--
    }
    // The live numbers of [low, sqrt x], when sqrt x is in this segment, are not above sqrt x.
    const base = this.before - (low <= sqrtX ? liveThrough(words, before, low, sqrtX) : 0)
    let partial = this.partial
    while (this.next >= 0) {
      const t = Math.floor(x / primes[this.next])
      if (t >= end) break
      partial += base + liveThrough(words, before, low, t)
      if (partial > 2 ** 51) { this.total += BigInt(partial); partial = 0 }
      this.next--
    }
    this.partial = partial
    this.before = base + live
  }

  /** P2, once the pass has handed over every segment up to z. */
  get value (): bigint {
    if (this.sqrtX <= this.y) return 0n
    if (this.next >= 0) throw new Error('the hard-leaf pass stopped before z')
    const count = BigInt(this.kept)
    const piSqrtX = BigInt(this.piY) + count
    // sum of -(i - 1) for i = a + 1 .. pi(sqrt x), i.e. -(a + ... + (pi(sqrt x) - 1)).
    const a = BigInt(this.piY)
    const closed = (piSqrtX - 1n) * piSqrtX / 2n - (a - 1n) * a / 2n
    return this.total + BigInt(this.partial) + count * piSqrtX - closed
  }
}

/** Live numbers of the segment [low, ...) in [low, t]: whole words from the prefix counts, then one masked word. */
function liveThrough (words: Uint32Array, before: Int32Array, low: number, t: number): number {
  const offset = t - low
  const byte = Math.floor(offset / 30)
  const w = byte >> 2
  const shift = (byte & 3) * 8
  return before[w] + popcount32(words[w] & (((1 << shift) - 1) | (UP_TO[offset - byte * 30] << shift)))
}
