/** A closed range [from, to] of whole numbers, the unit of work the scheduler hands out. */
export interface ShardRange {
  index: number
  from: bigint
  to: bigint
}

/** What one shard adds up to (the prime kernel's RangeCount); replicas must agree on all of it. */
export interface ShardResult {
  count: bigint
  /** Sum of the primes mod 2^64: a check value that lets replicas be compared beyond the count. */
  sum: bigint
  first: bigint | null
  last: bigint | null
}

/** A peer that computes shards: `slots` worker threads it advertises. */
export interface ComputePeer {
  id: string
  slots: number
}

/** One attempt to hand to an executor: shard `range` on `peer`. */
export interface Assignment {
  attempt: number
  peer: string
  range: ShardRange
  /** A speculative copy of a straggler (MapReduce backup task). */
  backup: boolean
}

/** A shard as the journal stores it; `result` set once one is accepted. */
export interface JournalShard {
  index: number
  from: bigint
  to: bigint
  result?: ShardResult
  peer?: string
  attempts: number
  seconds?: number
}

/** Where the scheduler records what it cut and accepted, so a restarted coordinator resumes. */
export interface SchedulerJournal {
  shardCut: (shard: ShardRange) => void
  shardStarted: (index: number, peer: string, attempts: number) => void
  shardRequeued: (index: number) => void
  shardDone: (shard: JournalShard) => void
}

export interface PeerReport {
  id: string
  /** Shards whose accepted result came from this peer. */
  shards: number
  /** Compute seconds of those shards. */
  seconds: number
}

export interface JobProgress {
  /** Share of [from, to] with an accepted result, 0..1. */
  fraction: number
  doneShards: number
  cutShards: number
  running: number
  elapsedMs: number
  /** Estimated ms to go, null until something is done. */
  etaMs: number | null
  peers: PeerReport[]
  retries: number
  reassigned: number
  backups: number
}

export interface JobReport extends ShardResult {
  from: bigint
  to: bigint
  shards: number
  peers: PeerReport[]
  /** Attempts that failed: call errors, invalid results, expired leases, lost peers. */
  retries: number
  /** Shards taken back from a peer (lost, failed, lease expired) and handed to another. */
  reassigned: number
  backups: number
  /** Results that came after their shard was already accepted, dropped. */
  duplicatesDropped: number
  /** In verify mode: peers whose result disagreed with the majority. */
  liars: string[]
  elapsedMs: number
}
