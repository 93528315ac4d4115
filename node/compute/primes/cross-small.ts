import { BIT_OF_RESIDUE, BYTE_CARRY, CLEAR_MASK, COFACTOR_GAP, RESIDUES } from './wheel.ts'

/**
 * Sieving primes that are visited every segment, struct-of-arrays so the hot loops touch typed
 * arrays only. Prime j is p = 30 q[j] + RESIDUES[rIndex[j]]; `position[j]` locates its next
 * multiple relative to the current segment and `wheel[j]` is that multiple's wheel index.
 * What `position` holds depends on the loop that uses the list (see crossSmallPrimes and
 * crossMediumPrimes).
 */
export class SievingPrimeList {
  q: Int32Array
  rIndex: Uint8Array
  position: Int32Array
  wheel: Uint8Array
  size = 0
  private readonly positionIsPeriodStart: boolean

  /**
   * @param positionIsPeriodStart store the byte of the multiple with wheel index 0 of the
   *   current period of 30 cofactors instead of the next multiple's byte (crossSmallPrimes).
   */
  constructor (capacity: number, positionIsPeriodStart: boolean) {
    this.q = new Int32Array(capacity)
    this.rIndex = new Uint8Array(capacity)
    this.position = new Int32Array(capacity)
    this.wheel = new Uint8Array(capacity)
    this.positionIsPeriodStart = positionIsPeriodStart
  }

  /** Adds prime p whose next multiple is at byte `byte` with wheel index `wheel`. */
  add (p: number, byte: number, wheel: number): void {
    const j = this.size++
    const q = Math.floor(p / 30)
    const ri = BIT_OF_RESIDUE[p - 30 * q]
    this.q[j] = q
    this.rIndex[j] = ri
    this.position[j] = this.positionIsPeriodStart ? byte - periodOffset(q, ri, wheel) : byte
    this.wheel[j] = wheel
  }

  /**
   * Reorders the primes by p % 30 (stable), so a loop that switches on it predicts the branch:
   * otherwise the switch mispredicts about once per prime per block.
   */
  groupByResidue (): void {
    const order = Array.from({ length: this.size }, (_, j) => j)
    order.sort((a, b) => this.rIndex[a] - this.rIndex[b] || a - b)
    for (const field of ['q', 'rIndex', 'position', 'wheel'] as const) {
      const old = this[field]
      const sorted = old.slice()
      for (let j = 0; j < order.length; j++) sorted[j] = old[order[j]]
      ;(this as any)[field] = sorted
    }
  }

  /** Moves every position back by one segment once the segment is done. */
  shift (segmentBytes: number): void {
    const position = this.position
    for (let j = 0; j < this.size; j++) position[j] -= segmentBytes
  }
}

/** Bytes from a period's wheel-index-0 multiple of p = 30q + RESIDUES[ri] to its wheel-index-k one. */
function periodOffset (q: number, ri: number, k: number): number {
  const m = RESIDUES[k]
  return q * (m - 1) + Math.floor((RESIDUES[ri] * m) / 30)
}

/**
 * Crosses off the multiples of the small sieving primes below byte `end` of the segment.
 *
 * In each period of 30 cofactors the 8 multiples of p = 30q + r sit at fixed byte offsets
 * `q * a + b` from the period start, with fixed bit masks, and a period is p bytes long. So
 * there is one loop per r with those offsets and masks as constants, crossing 8 multiples per
 * iteration (primesieve's EratSmall). A prime enters its period at its wheel index through
 * the fall-through `switch`, and leaves at the first multiple past `end`: no table lookups.
 */
export function crossSmallPrimes (s: Uint8Array, end: number, primes: SievingPrimeList): void {
  const qs = primes.q
  const rs = primes.rIndex
  const positions = primes.position
  const wheels = primes.wheel
  const size = primes.size
  for (let j = 0; j < size; j++) {
    let i = positions[j]
    if (i >= end) continue
    const q = qs[j]
    const ri = rs[j]
    let k = wheels[j]
    const p = q * 30 + RESIDUES[ri]
    period: switch (ri) {
      case 0: { // p % 30 == 1
        const o1 = q * 6
        const o2 = q * 10
        const o3 = q * 12
        const o4 = q * 16
        const o5 = q * 18
        const o6 = q * 22
        const o7 = q * 28
        const fullPeriods = end - o7
        for (;;) {
          switch (k) {
            case 0:
              for (; i < fullPeriods; i += p) {
                s[i] &= 254
                s[i + o1] &= 253
                s[i + o2] &= 251
                s[i + o3] &= 247
                s[i + o4] &= 239
                s[i + o5] &= 223
                s[i + o6] &= 191
                s[i + o7] &= 127
              }
              if (i >= end) { k = 0; break period }
              s[i] &= 254
            case 1:
              if (i + o1 >= end) { k = 1; break period }
              s[i + o1] &= 253
            case 2:
              if (i + o2 >= end) { k = 2; break period }
              s[i + o2] &= 251
            case 3:
              if (i + o3 >= end) { k = 3; break period }
              s[i + o3] &= 247
            case 4:
              if (i + o4 >= end) { k = 4; break period }
              s[i + o4] &= 239
            case 5:
              if (i + o5 >= end) { k = 5; break period }
              s[i + o5] &= 223
            case 6:
              if (i + o6 >= end) { k = 6; break period }
              s[i + o6] &= 191
            case 7:
              if (i + o7 >= end) { k = 7; break period }
              s[i + o7] &= 127
          }
          i += p
          k = 0
        }
      }
      case 1: { // p % 30 == 7
        const o1 = q * 6 + 1
        const o2 = q * 10 + 2
        const o3 = q * 12 + 3
        const o4 = q * 16 + 3
        const o5 = q * 18 + 4
        const o6 = q * 22 + 5
        const o7 = q * 28 + 6
        const fullPeriods = end - o7
        for (;;) {
          switch (k) {
            case 0:
              for (; i < fullPeriods; i += p) {
                s[i] &= 253
                s[i + o1] &= 223
                s[i + o2] &= 239
                s[i + o3] &= 254
                s[i + o4] &= 127
                s[i + o5] &= 247
                s[i + o6] &= 251
                s[i + o7] &= 191
              }
              if (i >= end) { k = 0; break period }
              s[i] &= 253
            case 1:
              if (i + o1 >= end) { k = 1; break period }
              s[i + o1] &= 223
            case 2:
              if (i + o2 >= end) { k = 2; break period }
              s[i + o2] &= 239
            case 3:
              if (i + o3 >= end) { k = 3; break period }
              s[i + o3] &= 254
            case 4:
              if (i + o4 >= end) { k = 4; break period }
              s[i + o4] &= 127
            case 5:
              if (i + o5 >= end) { k = 5; break period }
              s[i + o5] &= 247
            case 6:
              if (i + o6 >= end) { k = 6; break period }
              s[i + o6] &= 251
            case 7:
              if (i + o7 >= end) { k = 7; break period }
              s[i + o7] &= 191
          }
          i += p
          k = 0
        }
      }
      case 2: { // p % 30 == 11
        const o1 = q * 6 + 2
        const o2 = q * 10 + 4
        const o3 = q * 12 + 4
        const o4 = q * 16 + 6
        const o5 = q * 18 + 6
        const o6 = q * 22 + 8
        const o7 = q * 28 + 10
        const fullPeriods = end - o7
        for (;;) {
          switch (k) {
            case 0:
              for (; i < fullPeriods; i += p) {
                s[i] &= 251
                s[i + o1] &= 239
                s[i + o2] &= 254
                s[i + o3] &= 191
                s[i + o4] &= 253
                s[i + o5] &= 127
                s[i + o6] &= 247
                s[i + o7] &= 223
              }
              if (i >= end) { k = 0; break period }
              s[i] &= 251
            case 1:
              if (i + o1 >= end) { k = 1; break period }
              s[i + o1] &= 239
            case 2:
              if (i + o2 >= end) { k = 2; break period }
              s[i + o2] &= 254
            case 3:
              if (i + o3 >= end) { k = 3; break period }
              s[i + o3] &= 191
            case 4:
              if (i + o4 >= end) { k = 4; break period }
              s[i + o4] &= 253
            case 5:
              if (i + o5 >= end) { k = 5; break period }
              s[i + o5] &= 127
            case 6:
              if (i + o6 >= end) { k = 6; break period }
              s[i + o6] &= 247
            case 7:
              if (i + o7 >= end) { k = 7; break period }
              s[i + o7] &= 223
          }
          i += p
          k = 0
        }
      }
      case 3: { // p % 30 == 13
        const o1 = q * 6 + 3
        const o2 = q * 10 + 4
        const o3 = q * 12 + 5
        const o4 = q * 16 + 7
        const o5 = q * 18 + 8
        const o6 = q * 22 + 9
        const o7 = q * 28 + 12
        const fullPeriods = end - o7
        for (;;) {
          switch (k) {
            case 0:
              for (; i < fullPeriods; i += p) {
                s[i] &= 247
                s[i + o1] &= 254
                s[i + o2] &= 191
                s[i + o3] &= 223
                s[i + o4] &= 251
                s[i + o5] &= 253
                s[i + o6] &= 127
                s[i + o7] &= 239
              }
              if (i >= end) { k = 0; break period }
              s[i] &= 247
            case 1:
              if (i + o1 >= end) { k = 1; break period }
              s[i + o1] &= 254
            case 2:
              if (i + o2 >= end) { k = 2; break period }
              s[i + o2] &= 191
            case 3:
              if (i + o3 >= end) { k = 3; break period }
              s[i + o3] &= 223
            case 4:
              if (i + o4 >= end) { k = 4; break period }
              s[i + o4] &= 251
            case 5:
              if (i + o5 >= end) { k = 5; break period }
              s[i + o5] &= 253
            case 6:
              if (i + o6 >= end) { k = 6; break period }
              s[i + o6] &= 127
            case 7:
              if (i + o7 >= end) { k = 7; break period }
              s[i + o7] &= 239
          }
          i += p
          k = 0
        }
      }
      case 4: { // p % 30 == 17
        const o1 = q * 6 + 3
        const o2 = q * 10 + 6
        const o3 = q * 12 + 7
        const o4 = q * 16 + 9
        const o5 = q * 18 + 10
        const o6 = q * 22 + 13
        const o7 = q * 28 + 16
        const fullPeriods = end - o7
        for (;;) {
          switch (k) {
            case 0:
              for (; i < fullPeriods; i += p) {
                s[i] &= 239
                s[i + o1] &= 127
                s[i + o2] &= 253
                s[i + o3] &= 251
                s[i + o4] &= 223
                s[i + o5] &= 191
                s[i + o6] &= 254
                s[i + o7] &= 247
              }
              if (i >= end) { k = 0; break period }
              s[i] &= 239
            case 1:
              if (i + o1 >= end) { k = 1; break period }
              s[i + o1] &= 127
            case 2:
              if (i + o2 >= end) { k = 2; break period }
              s[i + o2] &= 253
            case 3:
              if (i + o3 >= end) { k = 3; break period }
              s[i + o3] &= 251
            case 4:
              if (i + o4 >= end) { k = 4; break period }
              s[i + o4] &= 223
            case 5:
              if (i + o5 >= end) { k = 5; break period }
              s[i + o5] &= 191
            case 6:
              if (i + o6 >= end) { k = 6; break period }
              s[i + o6] &= 254
            case 7:
              if (i + o7 >= end) { k = 7; break period }
              s[i + o7] &= 247
          }
          i += p
          k = 0
        }
      }
      case 5: { // p % 30 == 19
        const o1 = q * 6 + 4
        const o2 = q * 10 + 6
        const o3 = q * 12 + 8
        const o4 = q * 16 + 10
        const o5 = q * 18 + 12
        const o6 = q * 22 + 14
        const o7 = q * 28 + 18
        const fullPeriods = end - o7
        for (;;) {
          switch (k) {
            case 0:
              for (; i < fullPeriods; i += p) {
                s[i] &= 223
                s[i + o1] &= 247
                s[i + o2] &= 127
                s[i + o3] &= 253
                s[i + o4] &= 191
                s[i + o5] &= 254
                s[i + o6] &= 239
                s[i + o7] &= 251
              }
              if (i >= end) { k = 0; break period }
              s[i] &= 223
            case 1:
              if (i + o1 >= end) { k = 1; break period }
              s[i + o1] &= 247
            case 2:
              if (i + o2 >= end) { k = 2; break period }
              s[i + o2] &= 127
            case 3:
              if (i + o3 >= end) { k = 3; break period }
              s[i + o3] &= 253
            case 4:
              if (i + o4 >= end) { k = 4; break period }
              s[i + o4] &= 191
            case 5:
              if (i + o5 >= end) { k = 5; break period }
              s[i + o5] &= 254
            case 6:
              if (i + o6 >= end) { k = 6; break period }
              s[i + o6] &= 239
            case 7:
              if (i + o7 >= end) { k = 7; break period }
              s[i + o7] &= 251
          }
          i += p
          k = 0
        }
      }
      case 6: { // p % 30 == 23
        const o1 = q * 6 + 5
        const o2 = q * 10 + 8
        const o3 = q * 12 + 9
        const o4 = q * 16 + 13
        const o5 = q * 18 + 14
        const o6 = q * 22 + 17
        const o7 = q * 28 + 22
        const fullPeriods = end - o7
        for (;;) {
          switch (k) {
            case 0:
              for (; i < fullPeriods; i += p) {
                s[i] &= 191
                s[i + o1] &= 251
                s[i + o2] &= 247
                s[i + o3] &= 127
                s[i + o4] &= 254
                s[i + o5] &= 239
                s[i + o6] &= 223
                s[i + o7] &= 253
              }
              if (i >= end) { k = 0; break period }
              s[i] &= 191
            case 1:
              if (i + o1 >= end) { k = 1; break period }
              s[i + o1] &= 251
            case 2:
              if (i + o2 >= end) { k = 2; break period }
              s[i + o2] &= 247
            case 3:
              if (i + o3 >= end) { k = 3; break period }
              s[i + o3] &= 127
            case 4:
              if (i + o4 >= end) { k = 4; break period }
              s[i + o4] &= 254
            case 5:
              if (i + o5 >= end) { k = 5; break period }
              s[i + o5] &= 239
            case 6:
              if (i + o6 >= end) { k = 6; break period }
              s[i + o6] &= 223
            case 7:
              if (i + o7 >= end) { k = 7; break period }
              s[i + o7] &= 253
          }
          i += p
          k = 0
        }
      }
      case 7: { // p % 30 == 29
        const o1 = q * 6 + 6
        const o2 = q * 10 + 10
        const o3 = q * 12 + 12
        const o4 = q * 16 + 16
        const o5 = q * 18 + 18
        const o6 = q * 22 + 22
        const o7 = q * 28 + 28
        const fullPeriods = end - o7
        for (;;) {
          switch (k) {
            case 0:
              for (; i < fullPeriods; i += p) {
                s[i] &= 127
                s[i + o1] &= 191
                s[i + o2] &= 223
                s[i + o3] &= 239
                s[i + o4] &= 247
                s[i + o5] &= 251
                s[i + o6] &= 253
                s[i + o7] &= 254
              }
              if (i >= end) { k = 0; break period }
              s[i] &= 127
            case 1:
              if (i + o1 >= end) { k = 1; break period }
              s[i + o1] &= 191
            case 2:
              if (i + o2 >= end) { k = 2; break period }
              s[i + o2] &= 223
            case 3:
              if (i + o3 >= end) { k = 3; break period }
              s[i + o3] &= 239
            case 4:
              if (i + o4 >= end) { k = 4; break period }
              s[i + o4] &= 247
            case 5:
              if (i + o5 >= end) { k = 5; break period }
              s[i + o5] &= 251
            case 6:
              if (i + o6 >= end) { k = 6; break period }
              s[i + o6] &= 253
            case 7:
              if (i + o7 >= end) { k = 7; break period }
              s[i + o7] &= 254
          }
          i += p
          k = 0
        }
      }
    }
    positions[j] = i
    wheels[j] = k
  }
}

/**
 * Crosses off the multiples of primes with only a few multiples per segment, one step at a
 * time (an unrolled period would be longer than the segment). `position` is the next multiple.
 */
export function crossMediumPrimes (s: Uint8Array, end: number, primes: SievingPrimeList): void {
  const qs = primes.q
  const rs = primes.rIndex
  const positions = primes.position
  const wheels = primes.wheel
  const size = primes.size
  for (let j = 0; j < size; j++) {
    let i = positions[j]
    if (i >= end) continue
    const q = qs[j]
    const row = rs[j] << 3
    let k = wheels[j]
    do {
      s[i] &= CLEAR_MASK[row + k]
      i += q * COFACTOR_GAP[k] + BYTE_CARRY[row + k]
      k = (k + 1) & 7
    } while (i < end)
    positions[j] = i
    wheels[j] = k
  }
}
