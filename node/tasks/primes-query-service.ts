import { InvalidArgumentsError } from '../../protocols/rpc/index.ts'
import { isPrime } from '../compute/primes/primality.ts'
import type { WorkerPool } from '../compute/worker-pool.ts'
import { parseU64 } from '../jobs/shard-wire.ts'
import type { RpcContext, RpcMethods } from '../rpc/rpc-types.ts'

/** Longest n `primes.test` takes: a 300-digit prime costs about 7 ms of the event loop. */
export const MAX_TEST_DIGITS = 300
/** Most primes one `primes.range` answer carries (about 2 MB of JSON at the top of the range). */
export const MAX_RANGE_LIMIT = 100_001

/**
 * `primes.test` {n} -> {n, is_prime}, on the event loop (fast and bounded), and
 * `primes.range` {from, to, limit} -> {primes, next}, on the worker pool (a sieve near 2^64
 * needs the primes below 2^32 first). Both pure and idempotent; numbers are decimal strings.
 */
export function primesQueryMethods (pool: Pick<WorkerPool, 'run'>): RpcMethods {
  return {
    test: (args: unknown) => {
      const n = (args as { n?: unknown } | null)?.n
      if (typeof n !== 'string' || n.length > MAX_TEST_DIGITS || !/^(0|[1-9]\d*)$/.test(n)) {
        throw new InvalidArgumentsError(`primes.test takes {n}, a decimal string of at most ${MAX_TEST_DIGITS} digits`)
      }
      return { n, is_prime: isPrime(BigInt(n)) }
    },
    range: async (args: unknown, ctx: RpcContext) => {
      const raw = (args ?? {}) as Record<string, unknown>
      const from = parseU64(raw.from, 'from')
      const to = parseU64(raw.to, 'to')
      if (from > to) throw new InvalidArgumentsError('from must not be greater than to')
      const limit = raw.limit
      if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_RANGE_LIMIT) {
        throw new InvalidArgumentsError(`limit must be from 1 to ${MAX_RANGE_LIMIT}`)
      }
      return await pool.run('primes.range', { from, to, limit }, { signal: ctx.signal })
    }
  }
}
