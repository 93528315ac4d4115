/**
 * The bucket sieve (Oliveira e Silva) for sieving primes with at most a few multiples per
 * segment: each prime waits in the bucket of the segment that holds its next multiple, so a
 * segment only touches the primes that actually hit it, and segments can stay far smaller
 * than sqrt(stop).
 *
 * An entry is two 32-bit words: (q << 3 | rIndex) for the prime p = 30q + RESIDUES[rIndex]
 * (q < 2^28 since p < 2^32), and (byte << 3 | wheelIndex) for its next multiple inside the
 * segment. Entries live in fixed-size blocks from one pooled Uint32Array; a segment's bucket
 * is a linked list of blocks, and a block returns to the free list once its segment is done.
 */
import { BYTE_CARRY, CLEAR_MASK, COFACTOR_GAP } from './wheel.ts'

export const ENTRIES_PER_BLOCK = 1024
const WORDS_PER_BLOCK = ENTRIES_PER_BLOCK * 2

export class Buckets {
  /** Entry words of every block, block b at words [b * WORDS_PER_BLOCK, ...). */
  words: Uint32Array
  /** Per block: the next block of the same bucket, or -1. */
  private nextBlock: Int32Array
  /** Per block: how many entries it holds. */
  private fill: Int32Array
  /** Per segment: the block being filled, or -1. */
  private readonly head: Int32Array
  private freeBlocks: number[] = []
  private blockCount = 0

  constructor (segmentCount: number) {
    this.head = new Int32Array(segmentCount).fill(-1)
    this.words = new Uint32Array(16 * WORDS_PER_BLOCK)
    this.nextBlock = new Int32Array(16)
    this.fill = new Int32Array(16)
  }

  /** Bytes held by the block pool (for memory accounting). */
  get bytes (): number {
    return this.words.byteLength
  }

  push (segment: number, primeWord: number, positionWord: number): void {
    let b = this.head[segment]
    if (b < 0 || this.fill[b] === ENTRIES_PER_BLOCK) {
      const fresh = this.allocate()
      this.nextBlock[fresh] = b
      this.head[segment] = fresh
      b = fresh
    }
    const at = b * WORDS_PER_BLOCK + this.fill[b] * 2
    this.words[at] = primeWord
    this.words[at + 1] = positionWord
    this.fill[b]++
  }

  /** Detaches the bucket of `segment` and returns its first block (-1 when empty). */
  private take (segment: number): number {
    const b = this.head[segment]
    this.head[segment] = -1
    return b
  }

  private release (block: number): void {
    this.fill[block] = 0
    this.freeBlocks.push(block)
  }

  /**
   * Crosses off the multiples in segment `segment` (2^segmentShift bytes) of every prime in
   * its bucket, then files each prime under the segment of its next multiple, or drops it when
   * that lies beyond `lastSegment`.
   */
  crossOff (segment: number, s: Uint8Array, segmentShift: number, lastSegment: number): void {
    const segmentBytes = 1 << segmentShift
    const inSegment = segmentBytes - 1
    let block = this.take(segment)
    while (block >= 0) {
      let at = block * WORDS_PER_BLOCK
      const end = at + this.fill[block] * 2
      for (; at < end; at += 2) {
        const words = this.words
        const primeWord = words[at]
        const position = words[at + 1]
        const q = primeWord >>> 3
        const row = (primeWord & 7) << 3
        let i = position >>> 3
        let k = position & 7
        do {
          s[i] &= CLEAR_MASK[row + k]
          i += q * COFACTOR_GAP[k] + BYTE_CARRY[row + k]
          k = (k + 1) & 7
        } while (i < segmentBytes)
        const target = segment + (i >>> segmentShift)
        if (target > lastSegment) continue
        let b = this.head[target]
        if (b < 0 || this.fill[b] === ENTRIES_PER_BLOCK) {
          const fresh = this.allocate()
          this.nextBlock[fresh] = b
          this.head[target] = fresh
          b = fresh
        }
        const to = b * WORDS_PER_BLOCK + this.fill[b] * 2
        this.fill[b]++
        const out = this.words
        out[to] = primeWord
        out[to + 1] = ((i & inSegment) << 3) | k
      }
      const next = this.nextBlock[block]
      this.release(block)
      block = next
    }
  }

  private allocate (): number {
    const reused = this.freeBlocks.pop()
    if (reused !== undefined) return reused
    if (this.blockCount === this.fill.length) this.grow()
    return this.blockCount++
  }

  private grow (): void {
    const blocks = this.fill.length * 2
    const words = new Uint32Array(blocks * WORDS_PER_BLOCK)
    words.set(this.words)
    this.words = words
    const nextBlock = new Int32Array(blocks)
    nextBlock.set(this.nextBlock)
    this.nextBlock = nextBlock
    const fill = new Int32Array(blocks)
    fill.set(this.fill)
    this.fill = fill
  }
}
