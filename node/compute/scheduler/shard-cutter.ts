import { isqrt } from '../isqrt.ts'
import type { ShardRange } from './types.ts'

/** Shard boundaries fall on multiples of 30, where the mod-30 wheel restarts (primesieve). */
export const SHARD_ALIGNMENT = 30n
/**
 * A shard is at least 200·sqrt(to) wide (primesieve's rule): each shard first sieves the
 * primes up to sqrt(to), so narrower shards spend most of their time on that start-up.
 */
export const MIN_WIDTH_PER_SQRT = 200n
/** Below this no shard is worth a round trip, whatever sqrt(to) says. */
export const MIN_SHARD_WIDTH_FLOOR = 30_000n

/** The smallest shard width worth cutting for a job ending at `to`. */
export function minShardWidth (to: bigint): bigint {
  const width = MIN_WIDTH_PER_SQRT * isqrt(to)
  return width > MIN_SHARD_WIDTH_FLOOR ? width : MIN_SHARD_WIDTH_FLOOR
}

/**
 * Cuts [from, to] lazily, front to back: each cut takes the next `width` numbers from the
 * frontier, so every shard that exists has been handed out (and journaled) in order, and
 * the shards cover the range exactly once. Interior boundaries are multiples of 30.
 */
export class ShardCutter {
  readonly from: bigint
  readonly to: bigint
  readonly minWidth: bigint
  private frontier: bigint
  private nextIndex: number

  constructor (from: bigint, to: bigint, resume?: { frontier: bigint, nextIndex: number }, minWidth = minShardWidth(to)) {
    this.from = from
    this.to = to
    this.minWidth = minWidth
    this.frontier = resume?.frontier ?? from
    this.nextIndex = resume?.nextIndex ?? 0
  }

  /** Numbers not yet cut into a shard. */
  get remaining (): bigint {
    return this.frontier > this.to ? 0n : this.to - this.frontier + 1n
  }

  get exhausted (): boolean {
    return this.frontier > this.to
  }

  get cutCount (): number {
    return this.nextIndex
  }

  /**
   * The next shard, about `width` wide (never below the minimum). A leftover smaller than
   * the minimum joins this shard instead of becoming a shard of its own.
   */
  cut (width: bigint): ShardRange | null {
    if (this.exhausted) return null
    const start = this.frontier
    const w = width < this.minWidth ? this.minWidth : width
    let end = alignUp(start + w) - 1n
    if (end < start) end = alignUp(start + 1n) - 1n
    if (end >= this.to || this.to - end < this.minWidth) end = this.to
    this.frontier = end + 1n
    return { index: this.nextIndex++, from: start, to: end }
  }
}

/** The smallest multiple of 30 that is >= n. */
function alignUp (n: bigint): bigint {
  const r = n % SHARD_ALIGNMENT
  return r === 0n ? n : n + SHARD_ALIGNMENT - r
}
