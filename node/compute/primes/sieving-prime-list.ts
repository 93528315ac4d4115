import { BIT_OF_RESIDUE, RESIDUES } from './wheel.ts'

/**
 * Sieving primes that are visited every segment, struct-of-arrays so the hot loops touch typed
 * arrays only. Prime j is p = 30 q[j] + RESIDUES[rIndex[j]]; `position[j]` locates its next
 * multiple relative to the current segment and `wheel[j]` is that multiple's wheel index.
 * What `position` holds depends on the loop that uses the list (see wasm-crossing.ts).
 */
export class SievingPrimeList {
  readonly q: Int32Array
  readonly rIndex: Int32Array
  readonly position: Int32Array
  readonly wheel: Int32Array
  size = 0
  private readonly positionIsPeriodStart: boolean

  /**
   * @param positionIsPeriodStart store the byte of the multiple with wheel index 0 of the
   *   current period of 30 cofactors instead of the next multiple's byte (crossSmallPrimes).
   * @param storage where the four arrays live (16 bytes per prime), e.g. WebAssembly memory.
   */
  constructor (capacity: number, positionIsPeriodStart: boolean, storage?: { buffer: ArrayBuffer, byteOffset: number }) {
    const buffer = storage?.buffer ?? new ArrayBuffer(16 * capacity)
    const at = storage?.byteOffset ?? 0
    this.q = new Int32Array(buffer, at, capacity)
    this.rIndex = new Int32Array(buffer, at + 4 * capacity, capacity)
    this.position = new Int32Array(buffer, at + 8 * capacity, capacity)
    this.wheel = new Int32Array(buffer, at + 12 * capacity, capacity)
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
   * Reorders the primes by p % 30 (stable, a counting sort), so a loop that switches on it
   * predicts the branch: otherwise the switch mispredicts about once per prime per block.
   */
  groupByResidue (): void {
    const size = this.size
    const starts = new Int32Array(9)
    for (let j = 0; j < size; j++) starts[this.rIndex[j] + 1]++
    for (let ri = 0; ri < 8; ri++) starts[ri + 1] += starts[ri]
    const order = new Int32Array(size)
    for (let j = 0; j < size; j++) order[starts[this.rIndex[j]]++] = j
    for (const array of [this.q, this.rIndex, this.position, this.wheel]) {
      const old = array.slice(0, size)
      for (let j = 0; j < size; j++) array[j] = old[order[j]]
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
