/**
 * The prime sieve engine: a segmented sieve of Eratosthenes on a mod-30 wheel, exact for any
 * bounds in [0, 2^64). These are the entry points the CLI and the scheduler use per shard.
 */
export { countRange, type RangeCount, type CountOptions } from './count-range.ts'
export { primeBatches, formatPrimeBatch, listPrimes, type PrimeBatch } from './list-primes.ts'
export { countRangeParallel, combine, type ParallelCount, type ParallelCountOptions } from './parallel-count.ts'
export { planShards, type Shard } from './shards.ts'
export { MAX_BOUND } from './range-sieve.ts'
