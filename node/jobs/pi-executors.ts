import type { ShardExecutor } from '../compute/scheduler/job-runner.ts'
import type { WorkerPool } from '../compute/worker-pool.ts'
import type { MeshRpc } from '../rpc/mesh-rpc.ts'
import { systemClock, type Clock } from '../time/clock.ts'
import { isShortPiCount, piecesOf, resultOfSum, type PiJobPlan, type PiPiece } from './pi-job.ts'
import { runShardOnPeer } from './shard-executors.ts'

const LOCAL_KEEPALIVE_MS = 250
/** Progress counts hard-leaf numbers done in these (it only renews leases and shows life). */
const PROGRESS_UNIT = 240

/**
 * Runs the pieces of one hard-leaf shard on a worker pool, one after the other: their signed
 * sum, compute seconds, and progress in 240-number blocks. `urgent` for the pieces of a small
 * pi(x) (see isShortPiCount).
 */
export async function piecesOnPool (pool: Pick<WorkerPool, 'run'>, pieces: Array<Omit<PiPiece, 'params'> & { params: unknown }>,
  signal: AbortSignal, onProgress: (blocks: bigint) => void, urgent = false): Promise<{ sum: bigint, seconds: number }> {
  let sum = 0n
  let seconds = 0
  let numbers = 0
  for (const piece of pieces) {
    const r = await pool.run<{ sum: string, seconds: number }>('pi.hard', { params: piece.params, low: piece.low, high: piece.high, easy: piece.easy }, {
      signal,
      urgent,
      onProgress: n => { numbers += n as number; onProgress(BigInt(Math.floor(numbers / PROGRESS_UNIT))) }
    })
    sum += piece.negate ? -BigInt(r.sum) : BigInt(r.sum)
    seconds += r.seconds
  }
  return { sum, seconds }
}

/** The coordinator's own hard-leaf shards: its worker pool, no network. */
export function piLocalExecutor (pool: Pick<WorkerPool, 'run'>, plan: PiJobPlan, clock: Clock = systemClock): ShardExecutor {
  return {
    run: async (range, signal, onProgress) => {
      const keepalive = clock.setInterval(() => { onProgress(null) }, LOCAL_KEEPALIVE_MS)
      try {
        const { sum, seconds } = await piecesOnPool(pool, piecesOf(plan, range), signal, done => { onProgress(done) },
          plan.ends.every(end => isShortPiCount(end.params.x)))
        return { result: resultOfSum(sum), seconds }
      } finally {
        keepalive.clear()
      }
    }
  }
}

/**
 * A shard on a peer: `primes.hard-leaves` pinned to it, or `primes.leaves` when the shards
 * carry the easy leaves too; the scheduler decides on retries.
 */
export function piRemoteExecutor (rpc: Pick<MeshRpc, 'stream'>, peer: string, plan: PiJobPlan): ShardExecutor {
  return {
    run: async (range, signal, onProgress) => {
      const pieces = piecesOf(plan, range)
      // Units narrower than 240 numbers near y/4 can make a shard empty: nothing to ask for.
      if (pieces.length === 0) return { result: resultOfSum(0n), seconds: 0 }
      return await runShardOnPeer(rpc, peer, plan.easyInShards ? 'leaves' : 'hard-leaves', { pieces }, signal, onProgress)
    }
  }
}
