import { BYTE_CARRY, CLEAR_MASK, COFACTOR_GAP, RESIDUES } from './wheel.ts'

/**
 * Sieving primes with many multiples per segment, struct-of-arrays so the hot loop touches
 * typed arrays only. `next[j]` is the byte (relative to the current segment) of the next
 * multiple of prime j still to cross off and `wheel[j]` its wheel index (see wheel.ts).
 */
export class SmallSievingPrimes {
  q: Int32Array
  rIndex: Uint8Array
  next: Int32Array
  wheel: Uint8Array
  size = 0

  constructor (capacity: number) {
    this.q = new Int32Array(capacity)
    this.rIndex = new Uint8Array(capacity)
    this.next = new Int32Array(capacity)
    this.wheel = new Uint8Array(capacity)
  }

  add (prime: number, byteIndex: number, wheelIndex: number): void {
    const j = this.size++
    this.q[j] = Math.floor(prime / 30)
    this.rIndex[j] = BIT_INDEX_OF_PRIME_RESIDUE[prime % 30]
    this.next[j] = byteIndex
    this.wheel[j] = wheelIndex
  }

  /** Moves every position back by one segment once the segment is done. */
  shift (segmentBytes: number): void {
    const next = this.next
    for (let j = 0; j < this.size; j++) next[j] -= segmentBytes
  }
}

const BIT_INDEX_OF_PRIME_RESIDUE = new Int8Array(30)
for (let j = 0; j < 8; j++) BIT_INDEX_OF_PRIME_RESIDUE[RESIDUES[j]] = j

/**
 * Crosses off the multiples of the small sieving primes below byte `end` of the segment.
 *
 * After at most 7 single steps a prime reaches wheel index 0; from there its 8 multiples in
 * each period of 30 cofactors sit at fixed byte offsets `q * a + b` with fixed bit masks, and
 * the period is p bytes long. One loop per p % 30 with those offsets and masks as constants
 * crosses 8 multiples per iteration (primesieve's EratSmall idea).
 */
export function crossSmallPrimes (s: Uint8Array, end: number, primes: SmallSievingPrimes): void {
  const qs = primes.q
  const rs = primes.rIndex
  const nexts = primes.next
  const wheels = primes.wheel
  const size = primes.size
  for (let j = 0; j < size; j++) {
    let i = nexts[j]
    if (i >= end) continue
    const q = qs[j]
    const ri = rs[j]
    const row = ri << 3
    let k = wheels[j]
    while (k !== 0 && i < end) {
      s[i] &= CLEAR_MASK[row + k]
      i += q * COFACTOR_GAP[k] + BYTE_CARRY[row + k]
      k = (k + 1) & 7
    }
    if (k === 0) {
      const p = q * 30 + RESIDUES[ri]
      switch (ri) {
      case 0: { // p % 30 == 1
        const o1 = q * 6
        const o2 = q * 10
        const o3 = q * 12
        const o4 = q * 16
        const o5 = q * 18
        const o6 = q * 22
        const o7 = q * 28
        for (; i + o7 < end; i += p) {
          s[i] &= 254
          s[i + o1] &= 253
          s[i + o2] &= 251
          s[i + o3] &= 247
          s[i + o4] &= 239
          s[i + o5] &= 223
          s[i + o6] &= 191
          s[i + o7] &= 127
        }
        break
      }
      case 1: { // p % 30 == 7
        const o1 = q * 6 + 1
        const o2 = q * 10 + 2
        const o3 = q * 12 + 3
        const o4 = q * 16 + 3
        const o5 = q * 18 + 4
        const o6 = q * 22 + 5
        const o7 = q * 28 + 6
        for (; i + o7 < end; i += p) {
          s[i] &= 253
          s[i + o1] &= 223
          s[i + o2] &= 239
          s[i + o3] &= 254
          s[i + o4] &= 127
          s[i + o5] &= 247
          s[i + o6] &= 251
          s[i + o7] &= 191
        }
        break
      }
      case 2: { // p % 30 == 11
        const o1 = q * 6 + 2
        const o2 = q * 10 + 4
        const o3 = q * 12 + 4
        const o4 = q * 16 + 6
        const o5 = q * 18 + 6
        const o6 = q * 22 + 8
        const o7 = q * 28 + 10
        for (; i + o7 < end; i += p) {
          s[i] &= 251
          s[i + o1] &= 239
          s[i + o2] &= 254
          s[i + o3] &= 191
          s[i + o4] &= 253
          s[i + o5] &= 127
          s[i + o6] &= 247
          s[i + o7] &= 223
        }
        break
      }
      case 3: { // p % 30 == 13
        const o1 = q * 6 + 3
        const o2 = q * 10 + 4
        const o3 = q * 12 + 5
        const o4 = q * 16 + 7
        const o5 = q * 18 + 8
        const o6 = q * 22 + 9
        const o7 = q * 28 + 12
        for (; i + o7 < end; i += p) {
          s[i] &= 247
          s[i + o1] &= 254
          s[i + o2] &= 191
          s[i + o3] &= 223
          s[i + o4] &= 251
          s[i + o5] &= 253
          s[i + o6] &= 127
          s[i + o7] &= 239
        }
        break
      }
      case 4: { // p % 30 == 17
        const o1 = q * 6 + 3
        const o2 = q * 10 + 6
        const o3 = q * 12 + 7
        const o4 = q * 16 + 9
        const o5 = q * 18 + 10
        const o6 = q * 22 + 13
        const o7 = q * 28 + 16
        for (; i + o7 < end; i += p) {
          s[i] &= 239
          s[i + o1] &= 127
          s[i + o2] &= 253
          s[i + o3] &= 251
          s[i + o4] &= 223
          s[i + o5] &= 191
          s[i + o6] &= 254
          s[i + o7] &= 247
        }
        break
      }
      case 5: { // p % 30 == 19
        const o1 = q * 6 + 4
        const o2 = q * 10 + 6
        const o3 = q * 12 + 8
        const o4 = q * 16 + 10
        const o5 = q * 18 + 12
        const o6 = q * 22 + 14
        const o7 = q * 28 + 18
        for (; i + o7 < end; i += p) {
          s[i] &= 223
          s[i + o1] &= 247
          s[i + o2] &= 127
          s[i + o3] &= 253
          s[i + o4] &= 191
          s[i + o5] &= 254
          s[i + o6] &= 239
          s[i + o7] &= 251
        }
        break
      }
      case 6: { // p % 30 == 23
        const o1 = q * 6 + 5
        const o2 = q * 10 + 8
        const o3 = q * 12 + 9
        const o4 = q * 16 + 13
        const o5 = q * 18 + 14
        const o6 = q * 22 + 17
        const o7 = q * 28 + 22
        for (; i + o7 < end; i += p) {
          s[i] &= 191
          s[i + o1] &= 251
          s[i + o2] &= 247
          s[i + o3] &= 127
          s[i + o4] &= 254
          s[i + o5] &= 239
          s[i + o6] &= 223
          s[i + o7] &= 253
        }
        break
      }
      case 7: { // p % 30 == 29
        const o1 = q * 6 + 6
        const o2 = q * 10 + 10
        const o3 = q * 12 + 12
        const o4 = q * 16 + 16
        const o5 = q * 18 + 18
        const o6 = q * 22 + 22
        const o7 = q * 28 + 28
        for (; i + o7 < end; i += p) {
          s[i] &= 127
          s[i + o1] &= 191
          s[i + o2] &= 223
          s[i + o3] &= 239
          s[i + o4] &= 247
          s[i + o5] &= 251
          s[i + o6] &= 253
          s[i + o7] &= 254
        }
        break
      }
      }
      while (i < end) {
        s[i] &= CLEAR_MASK[row + k]
        i += q * COFACTOR_GAP[k] + BYTE_CARRY[row + k]
        k = (k + 1) & 7
      }
    }
    nexts[j] = i
    wheels[j] = k
  }
}

/**
 * Crosses off the multiples of primes with only a few multiples per segment: one step at a
 * time, no unrolling (an unrolled period would be longer than the segment).
 */
export function crossMediumPrimes (s: Uint8Array, end: number, primes: SmallSievingPrimes): void {
  const qs = primes.q
  const rs = primes.rIndex
  const nexts = primes.next
  const wheels = primes.wheel
  const size = primes.size
  for (let j = 0; j < size; j++) {
    let i = nexts[j]
    if (i >= end) continue
    const q = qs[j]
    const row = rs[j] << 3
    let k = wheels[j]
    do {
      s[i] &= CLEAR_MASK[row + k]
      i += q * COFACTOR_GAP[k] + BYTE_CARRY[row + k]
      k = (k + 1) & 7
    } while (i < end)
    nexts[j] = i
    wheels[j] = k
  }
}
