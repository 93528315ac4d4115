import { InvalidArgumentsError } from '../../protocols/rpc/index.ts'
import type { ShardResult } from '../compute/scheduler/types.ts'

/**
 * The `primes.count` rpc on the wire. Big numbers travel as decimal strings (JSON numbers
 * are doubles). Args: { from, to }. The answer streams items:
 *   { type: 'queued' }                      keep-alive while the shard waits for a worker
 *   { type: 'progress', done: '123' }       numbers of the shard done so far
 *   { type: 'result', count, sum, first, last, seconds }   the last item
 */
export type ShardItem =
  | { type: 'queued' }
  | { type: 'progress', done: string }
  | { type: 'result', count: string, sum: string, first: string | null, last: string | null, seconds: number }

/**
 * The widest shard a node computes for a peer: about an hour of one worker. Coordinators cut
 * far narrower ones (about a second of work; at most 2 × 200·sqrt(2^64) ≈ 1.7e12 near the top).
 */
export const MAX_SHARD_WIDTH = 4_000_000_000_000n
/** 2^64 has 20 digits. */
const MAX_DIGITS = 20
const MAX_U64 = (1n << 64n) - 1n
const DECIMAL = /^(0|[1-9][0-9]*)$/

/** A decimal string of a whole number in [0, 2^64), or InvalidArgumentsError naming the field. */
export function parseU64 (value: unknown, field: string): bigint {
  if (typeof value !== 'string' || value.length > MAX_DIGITS || !DECIMAL.test(value)) {
    throw new InvalidArgumentsError(`${field} must be a decimal string of a whole number below 2^64`)
  }
  const n = BigInt(value)
  if (n > MAX_U64) throw new InvalidArgumentsError(`${field} must be below 2^64`)
  return n
}

export function parseShardArgs (args: unknown): { from: bigint, to: bigint } {
  if (typeof args !== 'object' || args === null) throw new InvalidArgumentsError('primes.count takes { from, to }')
  const { from, to } = args as Record<string, unknown>
  const range = { from: parseU64(from, 'from'), to: parseU64(to, 'to') }
  if (range.from > range.to) throw new InvalidArgumentsError('from must not be greater than to')
  if (range.to - range.from + 1n > MAX_SHARD_WIDTH) throw new InvalidArgumentsError(`a shard spans at most ${MAX_SHARD_WIDTH} numbers`)
  return range
}

export function resultItem (result: ShardResult, seconds: number): ShardItem {
  return {
    type: 'result',
    count: result.count.toString(),
    sum: result.sum.toString(),
    first: result.first?.toString() ?? null,
    last: result.last?.toString() ?? null,
    seconds
  }
}

/** A peer's item, checked field by field; throws InvalidArgumentsError on anything else. */
export function parseShardItem (item: unknown): { type: 'queued' } | { type: 'progress', done: bigint } | { type: 'result', result: ShardResult, seconds: number } {
  if (typeof item !== 'object' || item === null) throw new InvalidArgumentsError('a primes.count item must be an object')
  const raw = item as Record<string, unknown>
  switch (raw.type) {
    case 'queued': return { type: 'queued' }
    case 'progress': return { type: 'progress', done: parseU64(raw.done, 'done') }
    case 'result': {
      const seconds = typeof raw.seconds === 'number' && Number.isFinite(raw.seconds) && raw.seconds >= 0 ? raw.seconds : 0
      return {
        type: 'result',
        seconds,
        result: {
          count: parseU64(raw.count, 'count'),
          sum: parseU64(raw.sum, 'sum'),
          first: raw.first == null ? null : parseU64(raw.first, 'first'),
          last: raw.last == null ? null : parseU64(raw.last, 'last')
        }
      }
    }
    default: throw new InvalidArgumentsError('unknown primes.count item type')
  }
}
