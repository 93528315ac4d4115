import { InvalidJobError } from './errors.ts'
import { DEFAULT_RATE_PER_SLOT } from './rate-tracker.ts'
import type { JournalShard, SchedulerJournal, ShardRange, ShardResult } from './types.ts'

/** Work per shard: long enough that ~1 ms of rpc per shard is noise, short enough to rebalance. */
export const DEFAULT_TARGET_SHARD_SECONDS = 0.75
/** Near the tail a shard is at most remaining / (this × worker slots): primecount's shrinking chunks. */
export const TAIL_SPLIT = 4
/** Failures of one shard before the job gives up on it (Ray max_retries, Dask allowed-failures). */
export const DEFAULT_MAX_FAILURES = 3
/**
 * Attempts of one shard lost with their peer (it died, left, or a cut made it unreachable)
 * before the job gives up on it. Such a loss is not the shard's fault, so it does not count
 * towards maxFailures: under repeated partitions a shard was otherwise sent three times
 * across cuts and failed a healthy job. Still bounded, so that a shard whose work brings
 * down every node it lands on (a process crash looks like a lost peer) ends the job too.
 */
export const DEFAULT_MAX_PEER_LOSSES = 8
/** Lease = this × the expected shard time (BOINC: "several times the average"). */
export const DEFAULT_LEASE_FACTOR = 4
/** No lease shorter than this: rpc start-up and a busy event loop must not look like a hang. */
export const DEFAULT_LEASE_FLOOR_MS = 2000
/**
 * After a progress report a lease runs this long: peers report every 250 ms, so a peer
 * silent for 6 reports is stopped or cut off (SIGSTOP, partition). Short, because a hang
 * costs this much at the tail; a false alarm costs only a duplicate shard.
 */
export const DEFAULT_LEASE_RENEW_MS = 1500
/** Spark speculation: a copy once a task runs 1.5× the median, not before 75% is done, 100 ms minimum. */
export const DEFAULT_BACKUP_MULTIPLIER = 1.5
export const BACKUP_QUANTILE = 0.75
export const DEFAULT_MIN_BACKUP_MS = 100
/** Shards queued at a peer beyond its worker slots: hides the round trip, bounds the tail. */
export const DEFAULT_PREFETCH = 1
/** A peer whose call failed rests this long (doubling per failure, up to 30 s) before new work. */
export const DEFAULT_PEER_BACKOFF_MS = 1000
export const MAX_PEER_BACKOFF_MS = 30_000
export const MAX_BOUND = (1n << 64n) - 1n
/**
 * No shard wider than this, whatever a peer's rate says: peers refuse shards over 4e12
 * (about an hour of one worker), and the cutter may fold up to one minimum width (< 8.6e11)
 * into the last shard.
 */
export const MAX_CUT_WIDTH = 2_000_000_000_000n

export interface ShardSchedulerInit {
  from: bigint
  to: bigint
  /** Every shard on two peers, a third on disagreement, the majority wins. */
  verify?: boolean
  now: () => number
  random?: () => number
  journal?: SchedulerJournal
  /** Shards from the journal of an interrupted run of this job. */
  restored?: JournalShard[]
  targetShardSeconds?: number
  initialRatePerSlot?: number
  maxFailures?: number
  maxPeerLosses?: number
  leaseFactor?: number
  leaseFloorMs?: number
  leaseRenewMs?: number
  backupMultiplier?: number
  minBackupMs?: number
  prefetch?: number
  peerBackoffMs?: number
  /** The narrowest shard to cut (default: the prime sieve's, 200 sqrt(to), at least 30,000). */
  minShardWidth?: bigint
  /** Plausibility check of a result (default: a prime count's); a reason, or null when plausible. */
  check?: (range: ShardRange, result: ShardResult) => string | null
}

export type ResolvedSchedulerOptions = Required<Omit<ShardSchedulerInit, 'journal' | 'restored' | 'check' | 'minShardWidth'>> & Pick<ShardSchedulerInit, 'journal' | 'restored' | 'check' | 'minShardWidth'>

/** Checks every option, one per line, naming it. */
export function resolveSchedulerOptions (init: ShardSchedulerInit): ResolvedSchedulerOptions {
  if (typeof init.from !== 'bigint' || init.from < 0n) throw new InvalidJobError('from must be a whole number >= 0')
  if (typeof init.to !== 'bigint' || init.to > MAX_BOUND) throw new InvalidJobError('to must be below 2^64')
  if (init.to < init.from) throw new InvalidJobError('to must be >= from')
  const opts = {
    ...init,
    verify: init.verify ?? false,
    random: init.random ?? Math.random,
    targetShardSeconds: init.targetShardSeconds ?? DEFAULT_TARGET_SHARD_SECONDS,
    initialRatePerSlot: init.initialRatePerSlot ?? DEFAULT_RATE_PER_SLOT,
    maxFailures: init.maxFailures ?? DEFAULT_MAX_FAILURES,
    maxPeerLosses: init.maxPeerLosses ?? DEFAULT_MAX_PEER_LOSSES,
    leaseFactor: init.leaseFactor ?? DEFAULT_LEASE_FACTOR,
    leaseFloorMs: init.leaseFloorMs ?? DEFAULT_LEASE_FLOOR_MS,
    leaseRenewMs: init.leaseRenewMs ?? DEFAULT_LEASE_RENEW_MS,
    backupMultiplier: init.backupMultiplier ?? DEFAULT_BACKUP_MULTIPLIER,
    minBackupMs: init.minBackupMs ?? DEFAULT_MIN_BACKUP_MS,
    prefetch: init.prefetch ?? DEFAULT_PREFETCH,
    peerBackoffMs: init.peerBackoffMs ?? DEFAULT_PEER_BACKOFF_MS
  }
  if (!(opts.targetShardSeconds > 0)) throw new InvalidJobError('targetShardSeconds must be > 0')
  if (!(opts.initialRatePerSlot > 0)) throw new InvalidJobError('initialRatePerSlot must be > 0')
  if (!Number.isInteger(opts.maxFailures) || opts.maxFailures < 1) throw new InvalidJobError('maxFailures must be a whole number >= 1')
  if (!Number.isInteger(opts.maxPeerLosses) || opts.maxPeerLosses < 1) throw new InvalidJobError('maxPeerLosses must be a whole number >= 1')
  if (!(opts.leaseFactor >= 1)) throw new InvalidJobError('leaseFactor must be >= 1')
  if (!(opts.leaseFloorMs > 0)) throw new InvalidJobError('leaseFloorMs must be > 0')
  if (!(opts.leaseRenewMs > 0)) throw new InvalidJobError('leaseRenewMs must be > 0')
  if (!(opts.backupMultiplier >= 1)) throw new InvalidJobError('backupMultiplier must be >= 1')
  if (!(opts.minBackupMs >= 0)) throw new InvalidJobError('minBackupMs must be >= 0')
  if (!Number.isInteger(opts.prefetch) || opts.prefetch < 0) throw new InvalidJobError('prefetch must be a whole number >= 0')
  if (!(opts.peerBackoffMs >= 0)) throw new InvalidJobError('peerBackoffMs must be >= 0')
  return opts
}
