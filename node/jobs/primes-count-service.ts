import { pushable } from 'it-pushable'
import { TooManyRequestsError } from '../../protocols/rpc/index.ts'
import type { ShardRange, ShardResult } from '../compute/scheduler/types.ts'
import type { WorkerPool } from '../compute/worker-pool.ts'
import { defaultLogger, type MeshLogger } from '../logging/logger.ts'
import type { MeshMetrics } from '../metrics/metrics.ts'
import type { MeshRpc } from '../rpc/mesh-rpc.ts'
import type { RpcContext, RpcMethods } from '../rpc/rpc-types.ts'
import { systemClock, type Clock, type Timer } from '../time/clock.ts'
import { parametersToWire } from '../compute/pi/pi-wire.ts'
import { piecesOnPool } from './pi-executors.ts'
import { isShortPiCount, parsePieces, resultOfSum } from './pi-job.ts'
import { parseShardArgs, resultItem, type ShardItem } from './shard-wire.ts'

/** A keep-alive while queued, and at most this often a progress item: renews the coordinator's lease. */
export const PROGRESS_ITEM_EVERY_MS = 250
/** Shards waiting for a worker beyond this many per slot are refused (coordinators prefetch 1). */
const MAX_QUEUED_PER_SLOT = 4

/** Counts one shard: the result and its compute seconds, reporting the numbers done so far. */
export type ShardCounter = (range: Pick<ShardRange, 'from' | 'to'>, signal: AbortSignal,
  onProgress: (done: bigint) => void) => Promise<{ result: ShardResult, seconds: number }>

export interface PrimesCountComponents {
  /** Runs the shards; its size and queue decide when to refuse more. */
  pool: Pick<WorkerPool, 'run' | 'size' | 'queued'>
  metrics: Pick<MeshMetrics, 'counter'>
  clock?: Clock
  logger?: MeshLogger
}

export interface PrimesCountInit {
  /**
   * How a shard is counted; default on the worker pool. Tests give a node a faulty counter
   * (one that answers wrong counts) to check that verify mode catches it.
   */
  count?: ShardCounter
}

/** Runs one shard on the worker pool: the result and its compute seconds. */
export async function countOnPool (pool: Pick<WorkerPool, 'run'>, from: bigint, to: bigint, signal: AbortSignal,
  onProgress: (done: bigint) => void): Promise<{ result: ShardResult, seconds: number }> {
  let done = 0n
  const reply = await pool.run<ShardResult & { seconds: number }>('primes.count', { from, to, details: true }, {
    signal,
    onProgress: delta => { done += BigInt(delta as bigint); onProgress(done) }
  })
  const { seconds, ...result } = reply
  return { result, seconds }
}

/**
 * `count` of the rpc service `primes`, on this node's worker pool: streams progress, then the
 * result. A module that adds primes.list or primes.test spreads this into the same service
 * (the registry takes each service name once).
 */
export function primesCountMethods (components: PrimesCountComponents, init: PrimesCountInit = {}): RpcMethods {
  const { pool, metrics } = components
  const clock = components.clock ?? systemClock
  const log = (components.logger ?? defaultLogger).forComponent('jobs:primes')
  const count = init.count ?? (async (range, signal, onProgress) => await countOnPool(pool, range.from, range.to, signal, onProgress))
  const served = metrics.counter('mesh_primes_shards_served_total', 'primes.count shards served', ['outcome'])
  return {
    count: (args: unknown, ctx: RpcContext) => {
      const range = parseShardArgs(args)
      if (pool.queued >= pool.size * MAX_QUEUED_PER_SLOT) {
        served.inc({ outcome: 'busy' })
        throw new TooManyRequestsError('all workers are busy and the queue is full')
      }
      return streamShard(count, range, ctx.signal, clock, outcome => {
        served.inc({ outcome })
        log('shard [%s, %s] for %s: %s', range.from, range.to, ctx.caller, outcome)
      })
    },
    /** One shard of a combinatorial pi(x): the hard leaves of its pieces, summed (signed, mod 2^64 in `count`). */
    'hard-leaves': (args: unknown, ctx: RpcContext) => serveLeaves(parsePieces(args), ctx),
    /** The same with the easy leaves of each piece's primes too (a `primes.pi-split` job). */
    leaves: (args: unknown, ctx: RpcContext) => serveLeaves(parsePieces(args, true), ctx)
  }

  function serveLeaves (pieces: ReturnType<typeof parsePieces>, ctx: RpcContext): ReturnType<typeof streamShard> {
    if (pool.queued >= pool.size * MAX_QUEUED_PER_SLOT) {
      served.inc({ outcome: 'busy' })
      throw new TooManyRequestsError('all workers are busy and the queue is full')
    }
    const leaves: ShardCounter = async (_range, signal, onProgress) => {
      const { sum, seconds } = await piecesOnPool(pool, pieces.map(p => ({ ...p, params: parametersToWire(p.params) })), signal, onProgress,
        pieces.every(p => isShortPiCount(p.params.x)))
      return { result: resultOfSum(sum), seconds }
    }
    return streamShard(leaves, { from: 0n, to: 0n }, ctx.signal, clock, outcome => {
      served.inc({ outcome })
      log('leaf shard of pi(%s) [%d, %d) for %s: %s', pieces[0].params.x, pieces[0].low, pieces[0].high, ctx.caller, outcome)
    })
  }
}

/** Serves `primes.count` (idempotent: a shard counted twice gives the same answer). */
export function registerPrimesCountService (components: PrimesCountComponents & { rpc: Pick<MeshRpc, 'register'> },
  init: PrimesCountInit = {}): void {
  components.rpc.register('primes', primesCountMethods(components, init), { idempotent: true })
}

/**
 * The items of one shard call: progress at most every PROGRESS_ITEM_EVERY_MS, a keep-alive
 * when nothing was sent for that long (queued behind other shards, or a slow segment), so
 * the coordinator's lease does not run out, then the result. One timer at a time, cleared
 * when the stream ends or the caller stops reading.
 */
function streamShard (count: ShardCounter, range: { from: bigint, to: bigint }, signal: AbortSignal, clock: Clock,
  counted: (outcome: string) => void): AsyncIterable<ShardItem> {
  let ended = false
  let keepalive: Timer | undefined
  let lastItemAt = clock.now()
  let done: bigint | null = null
  const items = pushable<ShardItem>({
    objectMode: true,
    onEnd: () => { ended = true; keepalive?.clear() }
  })
  const push = (item: ShardItem): void => {
    items.push(item)
    lastItemAt = clock.now()
    arm()
  }
  const arm = (): void => {
    keepalive?.clear()
    if (ended) return
    keepalive = clock.setTimeout(() => { push(done != null ? { type: 'progress', done: done.toString() } : { type: 'queued' }) }, PROGRESS_ITEM_EVERY_MS)
  }
  arm()
  count(range, signal, numbers => {
    done = numbers
    if (clock.now() - lastItemAt >= PROGRESS_ITEM_EVERY_MS) push({ type: 'progress', done: numbers.toString() })
  }).then(({ result, seconds }) => {
    counted('ok')
    items.push(resultItem(result, seconds))
    items.end()
  }, (err: Error) => {
    counted(signal.aborted ? 'cancelled' : 'failed')
    items.end(err)
  })
  return items
}
