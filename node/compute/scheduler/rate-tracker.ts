/**
 * A conservative first guess of one worker's speed, in numbers per second, used until a peer
 * has finished a shard. The JS kernel does 3-7e8/s near 1e12 on this kind of machine;
 * guessing low makes the first shards short, which costs little.
 */
export const DEFAULT_RATE_PER_SLOT = 2e8
/** Weight of the newest measurement: a few shards settle the estimate, one outlier does not. */
const EWMA_WEIGHT = 0.3

/** Each peer's measured rate per worker slot (numbers/s), from the shards it finished. */
export class RateTracker {
  private readonly rates = new Map<string, number>()
  private readonly initial: number

  constructor (initial = DEFAULT_RATE_PER_SLOT) {
    this.initial = initial
  }

  /** A peer with no history borrows the median of the others: same code, likely similar CPUs. */
  rateOf (peer: string): number {
    const known = this.rates.get(peer)
    if (known != null) return known
    const others = [...this.rates.values()].sort((a, b) => a - b)
    return others.length > 0 ? others[Math.floor(others.length / 2)] : this.initial
  }

  record (peer: string, numbers: bigint, seconds: number): void {
    if (!(seconds > 0.001)) return
    const measured = Number(numbers) / seconds
    if (!Number.isFinite(measured) || measured <= 0) return
    const old = this.rates.get(peer)
    this.rates.set(peer, old == null ? measured : old + EWMA_WEIGHT * (measured - old))
  }
}
