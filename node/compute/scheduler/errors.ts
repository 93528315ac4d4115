/**
 * A shard failed `attempts` times (Ray/Dask cap: 3), or was lost with its peer that many
 * times (`peerLoss`): the job stops and names the shard.
 */
export class ShardRetryLimitError extends Error {
  override name = 'ShardRetryLimitError'
  readonly shard: { index: number, from: bigint, to: bigint }

  constructor (shard: { index: number, from: bigint, to: bigint }, attempts: number, lastError: string, peerLoss = false) {
    super(`shard ${shard.index} [${shard.from}, ${shard.to}] ${peerLoss ? 'lost its peer' : 'failed'} ${attempts} times (last: ${lastError})`)
    this.shard = { index: shard.index, from: shard.from, to: shard.to }
  }
}

/** In verify mode no result of a shard reached a majority after the most copies allowed. */
export class ShardDisagreementError extends Error {
  override name = 'ShardDisagreementError'
}

/** The job's bounds or options are unusable. */
export class InvalidJobError extends Error {
  override name = 'InvalidJobError'
}

/** No peer can take the remaining work (e.g. verify mode with a single peer) for too long. */
export class NoEligiblePeerError extends Error {
  override name = 'NoEligiblePeerError'
}

/** The job was cancelled by its owner. */
export class JobCancelledError extends Error {
  override name = 'JobCancelledError'
}

/** A shard attempt was taken back (peer lost, lease expired); the executor's call is aborted. */
export class AttemptCancelledError extends Error {
  override name = 'AttemptCancelledError'
}
