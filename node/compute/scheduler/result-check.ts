import type { ShardRange, ShardResult } from './types.ts'

/**
 * Cheap plausibility checks of a peer's answer for a shard: a peer's bytes are never
 * trusted. Returns a reason, or null when the result is plausible.
 */
export function implausibility (range: ShardRange, result: ShardResult): string | null {
  const width = range.to - range.from + 1n
  if (result.count < 0n || result.count > width) return `count ${result.count} outside 0..${width}`
  if (result.sum < 0n || result.sum >= 1n << 64n) return 'sum outside 0..2^64'
  if (result.count === 0n) {
    if (result.first != null || result.last != null) return 'first/last given with a count of 0'
    return null
  }
  if (result.first == null || result.last == null) return 'first/last missing'
  if (result.first < range.from || result.last > range.to || result.first > result.last) return 'first/last outside the shard'
  if (result.count === 1n && result.first !== result.last) return 'one prime but first != last'
  return null
}

/** Replicas agree when every field agrees; this key makes that a string comparison. */
export function resultKey (result: ShardResult): string {
  return `${result.count}:${result.sum}:${result.first ?? '-'}:${result.last ?? '-'}`
}

/** The results of consecutive shards, combined in index order, as the kernel combines its own. */
export { combine } from '../primes/combine.ts'
