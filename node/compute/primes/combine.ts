// Apart from the kernels: the coordinator's scheduler combines results without loading the sieve.
import type { RangeCount } from './count-range.ts'

/** Adds up shard results given in range order. */
export function combine (results: RangeCount[]): RangeCount {
  let count = 0n
  let sum = 0n
  let first: bigint | null = null
  let last: bigint | null = null
  for (const r of results) {
    count += r.count
    sum = BigInt.asUintN(64, sum + r.sum)
    first ??= r.first
    if (r.last != null) last = r.last
  }
  return { count, sum, first, last }
}
