import type { ShardExecutor } from '../compute/scheduler/job-runner.ts'
import type { ShardResult } from '../compute/scheduler/types.ts'
import type { WorkerPool } from '../compute/worker-pool.ts'
import type { MeshRpc } from '../rpc/mesh-rpc.ts'
import { systemClock, type Clock } from '../time/clock.ts'
import { countOnPool } from './primes-count-service.ts'
import { parseShardItem } from './shard-wire.ts'

/**
 * The rpc deadline of one shard call. Hangs are the lease's job (seconds, renewed by
 * progress); this only bounds a call nobody cancels.
 */
export const SHARD_CALL_DEADLINE_MS = 30 * 60 * 1000
/** Items one shard call may stream; a peer sending more is broken or hostile. */
const MAX_ITEMS_PER_SHARD = 1_000_000

export class ShardProtocolError extends Error {
  override name = 'ShardProtocolError'
}

/** How often a local shard waiting for a worker thread renews its lease. */
const LOCAL_KEEPALIVE_MS = 250

/** The coordinator's own share: its worker pool, no network. */
export function localExecutor (pool: Pick<WorkerPool, 'run'>, clock: Clock = systemClock): ShardExecutor {
  return {
    run: async (range, signal, onProgress) => {
      // Queued behind another shard, or between two progress reports of a slow one: this
      // process is alive, so its own shards are never hung (remote peers send the same).
      const keepalive = clock.setInterval(() => { onProgress(null) }, LOCAL_KEEPALIVE_MS)
      try {
        return await countOnPool(pool, range.from, range.to, signal, onProgress)
      } finally {
        keepalive.clear()
      }
    }
  }
}

/** A shard on a peer: `primes.count` pinned to it, no rpc-level retry (the scheduler decides). */
export function remoteExecutor (rpc: Pick<MeshRpc, 'stream'>, peer: string): ShardExecutor {
  return {
    run: async (range, signal, onProgress) =>
      await runShardOnPeer(rpc, peer, 'count', { from: range.from.toString(), to: range.to.toString() }, signal, onProgress)
  }
}

/**
 * Streams one shard's `primes.<method>` from `peer`: queued and progress items renew the
 * lease, the result ends it. Bounded in items, so a peer cannot stream forever.
 */
export async function runShardOnPeer (rpc: Pick<MeshRpc, 'stream'>, peer: string, method: string, args: unknown,
  signal: AbortSignal, onProgress: (done: bigint | null) => void): Promise<{ result: ShardResult, seconds: number }> {
  let items = 0
  const stream = rpc.stream('primes', method, args, {
    peer, signal, maxAttempts: 1, deadlineMs: SHARD_CALL_DEADLINE_MS, idempotent: true
  })
  for await (const raw of stream) {
    if (++items > MAX_ITEMS_PER_SHARD) throw new ShardProtocolError(`${peer} sent more than ${MAX_ITEMS_PER_SHARD} items for one shard`)
    const item = parseShardItem(raw)
    if (item.type === 'queued') onProgress(null)
    else if (item.type === 'progress') onProgress(item.done)
    else return { result: item.result, seconds: item.seconds }
  }
  throw new ShardProtocolError(`${peer} ended the primes.${method} stream without a result`)
}
