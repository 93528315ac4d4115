import createDebug from 'debug'
import { TooManyRequestsError } from '../../protocols/rpc/index.ts'
import type { ShardResult } from '../compute/scheduler/types.ts'
import type { WorkerPool } from '../compute/worker-pool.ts'
import type { MeshMetrics } from '../metrics/metrics.ts'
import type { MeshRpc } from '../rpc/mesh-rpc.ts'
import type { RpcContext, RpcMethods } from '../rpc/rpc-types.ts'
import { parseShardArgs, resultItem, type ShardItem } from './shard-wire.ts'

/** A keep-alive while queued, and at most this often a progress item: renews the coordinator's lease. */
export const PROGRESS_ITEM_EVERY_MS = 250
/** Shards waiting for a worker beyond this many per slot are refused (coordinators prefetch 1). */
const MAX_QUEUED_PER_SLOT = 4

const log = createDebug('mesh:jobs:primes')

export interface PrimesCountComponents {
  rpc: MeshRpc
  pool: WorkerPool
  metrics: MeshMetrics
}

/**
 * TEST-ONLY fault: with MESH_TEST_LIE=1 in its environment a node answers every shard with a
 * count one too high, so the verify mode's liar detection can be tested. Never set it in use.
 */
export function lyingFromEnv (env: NodeJS.ProcessEnv = process.env): boolean {
  return env.MESH_TEST_LIE === '1'
}

/** Runs one shard on the worker pool: the result and its compute seconds. */
export async function countOnPool (pool: WorkerPool, from: bigint, to: bigint, signal: AbortSignal,
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
export function primesCountMethods (components: Omit<PrimesCountComponents, 'rpc'>, lie = lyingFromEnv()): RpcMethods {
  const { pool, metrics } = components
  const served = metrics.counter('mesh_primes_shards_served_total', 'primes.count shards served', ['outcome'])
  if (lie) log('MESH_TEST_LIE=1: this node answers wrong counts (test only)')
  return {
    count: (args: unknown, ctx: RpcContext) => {
      const range = parseShardArgs(args)
      if (pool.queued >= pool.size * MAX_QUEUED_PER_SLOT) {
        served.inc({ outcome: 'busy' })
        throw new TooManyRequestsError('all workers are busy and the queue is full')
      }
      return streamShard(pool, range.from, range.to, ctx.signal, lie, outcome => { served.inc({ outcome }) })
    }
  }
}

/** Serves `primes.count` (idempotent: a shard counted twice gives the same answer). */
export function registerPrimesCountService (components: PrimesCountComponents, lie = lyingFromEnv()): void {
  components.rpc.register('primes', primesCountMethods(components, lie), { idempotent: true })
}

async function * streamShard (pool: WorkerPool, from: bigint, to: bigint, signal: AbortSignal, lie: boolean,
  counted: (outcome: string) => void): AsyncGenerator<ShardItem> {
  const items: ShardItem[] = []
  let wake: (() => void) | undefined
  let finished = false
  let failure: unknown
  let lastItemAt = Date.now()
  let started = false
  const push = (item: ShardItem): void => { items.push(item); lastItemAt = Date.now(); wake?.() }
  void countOnPool(pool, from, to, signal, done => {
    started = true
    if (Date.now() - lastItemAt >= PROGRESS_ITEM_EVERY_MS) push({ type: 'progress', done: done.toString() })
  }).then(({ result, seconds }) => {
    const told = lie ? { ...result, count: result.count + 1n } : result
    push(resultItem(told, seconds))
    finished = true
    counted('ok')
  }, err => {
    failure = err
    finished = true
    counted(signal.aborted ? 'cancelled' : 'failed')
    wake?.()
  })
  while (true) {
    if (items.length > 0) { yield items.shift() as ShardItem; continue }
    if (finished) {
      if (failure != null) throw failure
      return
    }
    // Nothing new for a while (queued, or a slow segment): say we are alive.
    await new Promise<void>(resolve => {
      wake = resolve
      setTimeout(resolve, PROGRESS_ITEM_EVERY_MS)
    })
    wake = undefined
    if (!finished && items.length === 0 && Date.now() - lastItemAt >= PROGRESS_ITEM_EVERY_MS) {
      push(started ? { type: 'progress', done: '0' } : { type: 'queued' })
    }
  }
}
