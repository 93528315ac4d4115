import { isqrt } from '../isqrt.ts'

/**
 * Below this width a shard's fixed cost (generating sieving primes up to sqrt(to)) would be a
 * noticeable share of its work (primesieve: MIN_THREAD_DISTANCE).
 */
const MIN_SHARD_WIDTH = 10_000_000n
/**
 * Preferred width at least: 68 sieve segments of 15.7M numbers. A shard pays about a
 * millisecond of fixed cost (placing its sieving primes, its partial first and last
 * segments, a message each way); measured for pi(1e10) on one core, 500 shards of 2e7 cost
 * 0.6 s more than one range, 75 shards of 1.3e8 about 0.1 s, 10 shards of 1.1e9 about
 * 0.05 s. Progress comes from inside a shard, so wide shards do not make it coarse.
 */
const PREFERRED_SHARD_WIDTH = 1n << 30n
/**
 * A shard this many times sqrt(to) wide spends well under 1% on its fixed cost, the Oliveira e
 * Silva cost model's B * pi(sqrt(to)) term (primesieve ParallelSieve uses 200).
 */
const SHARD_WIDTH_PER_SQRT = 200n
/** Shards per worker at least, so a slow shard near the end does not leave threads idle. */
const MIN_SHARDS_PER_WORKER = 4n

export interface Shard {
  from: bigint
  to: bigint
}

/**
 * Splits [from, to] into consecutive shards for `workers` threads: about 200 * sqrt(to)
 * wide (at least 2^30), yet at least 4 per worker when the range allows and never below 1e7,
 * with inner boundaries on
 * multiples of 30 (so no 30-number wheel byte is split).
 */
export function planShards (from: bigint, to: bigint, workers: number): Shard[] {
  if (from > to) return []
  const width = to - from + 1n
  const threads = BigInt(Math.max(1, workers))
  let shardWidth = SHARD_WIDTH_PER_SQRT * isqrt(to)
  if (shardWidth < PREFERRED_SHARD_WIDTH) shardWidth = PREFERRED_SHARD_WIDTH
  const perThread = width / (threads * MIN_SHARDS_PER_WORKER)
  if (shardWidth > perThread) shardWidth = perThread
  if (shardWidth < MIN_SHARD_WIDTH) shardWidth = MIN_SHARD_WIDTH
  let count = (width + shardWidth - 1n) / shardWidth
  // A multiple of the thread count, so all threads finish at about the same time.
  if (count > 1n) count = (count + threads - 1n) / threads * threads
  const step = width / count
  const shards: Shard[] = []
  let start = from
  for (let i = 1n; i <= count && start <= to; i++) {
    let end = i === count ? to : (from + step * i) / 30n * 30n - 1n
    if (end < start) continue
    if (end > to) end = to
    shards.push({ from: start, to: end })
    start = end + 1n
  }
  return shards
}
