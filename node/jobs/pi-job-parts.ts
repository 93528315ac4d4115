import type { WorkerPool } from '../compute/worker-pool.ts'
import { parametersToWire } from '../compute/pi/pi-wire.ts'
import { isShortPiCount, planPiJob, type PiJobPlan } from './pi-job.ts'

/**
 * Units of the hard-leaf line (see pi-job.ts) one worker does per second at first; the
 * scheduler learns each peer's real rate from its first shards. One core does the hard leaves
 * of pi(x) in about 4e-10 * x^(2/3) s here; guess 4 times slower, so the first shards are short.
 */
function initialBlocksPerSecond (plan: PiJobPlan): number {
  let seconds = 0
  for (const end of plan.ends) seconds += 1.6e-9 * Number(end.params.x) ** (2 / 3)
  return Math.max(1, plan.blocks / Math.max(seconds, 1e-3))
}

export interface PiJobParts {
  plan: PiJobPlan
  blocksPerSecond: number
  /** pi(to) - pi(from - 1), given the signed sum of every hard-leaf shard. */
  total: (hardSum: bigint) => Promise<bigint>
  /** Worker threads of this node busy with the easy terms now: not free for hard-leaf shards. */
  busyWorkers: () => number
}

/**
 * The coordinator's share of a combinatorial count besides the shards: the easy terms of each
 * end (S1 and P2, and the easy leaves unless the shards carry them), started on its pool at
 * once, so they run while the peers sieve.
 */
export function piJobParts (pool: Pick<WorkerPool, 'run'>, from: bigint, to: bigint, signal: AbortSignal, easyInShards = false): PiJobParts {
  const plan = planPiJob(from, to, easyInShards)
  let busy = plan.ends.length
  const easy = plan.ends.map(async end => {
    try {
      const r = await pool.run<{ s1: string, s2Easy: string, p2: string, piY: number }>('pi.easy', { params: parametersToWire(end.params), easyLeaves: !easyInShards },
        { signal, urgent: isShortPiCount(end.params.x) })
      const value = BigInt(r.s1) + BigInt(r.s2Easy) + BigInt(r.piY) - 1n - BigInt(r.p2)
      return end.negate ? -value : value
    } finally {
      busy--
    }
  })
  // Not awaited until the end: keep an early failure from being an unhandled rejection.
  for (const e of easy) e.catch(() => {})
  return {
    plan,
    blocksPerSecond: initialBlocksPerSecond(plan),
    busyWorkers: () => busy,
    total: async hardSum => (await Promise.all(easy)).reduce((a, b) => a + b, plan.sieved + hardSum)
  }
}
