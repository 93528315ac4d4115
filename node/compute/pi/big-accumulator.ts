/**
 * A sum of doubles that may pass 2^53: adds stay in a double while it is far from 2^53
 * and spill into a BigInt beyond that. Every addend must be a whole number below 2^51.
 */
const SPILL = 2 ** 51

export class BigAccumulator {
  private small = 0
  private big = 0n

  add (v: number): void {
    const s = this.small + v
    if (s > SPILL || s < -SPILL) {
      this.big += BigInt(s)
      this.small = 0
    } else {
      this.small = s
    }
  }

  addBig (v: bigint): void {
    this.big += v
  }

  get value (): bigint {
    return this.big + BigInt(this.small)
  }
}
