import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { JobJournal } from '../../../node/compute/scheduler/job-journal.ts'
import { WorkerPool } from '../../../node/compute/worker-pool.ts'
import { piecesOnPool } from '../../../node/jobs/pi-executors.ts'
import { piecesOf, planPiJob, PRIMES_PI_KIND, PRIMES_PI_SPLIT_KIND, resultOfSum } from '../../../node/jobs/pi-job.ts'
import { jobServiceRig, lastEvent, type JobServiceRig } from '../../utils/job-service-rig.ts'

// pi(1e11) - pi(1e9 - 1), primecount's values.
const FROM = 1_000_000_000n
const TO = 100_000_000_000n
const COUNT = 4_118_054_813n - 50_847_534n

/** A combinatorial job on one node's real worker pool, both kinds: the new one and one resumed from an older journal. */
describe('combinatorial job kinds', () => {
  let rig: JobServiceRig
  let pool: WorkerPool

  beforeEach(async () => {
    pool = new WorkerPool({ size: 1 })
    rig = await jobServiceRig(pool)
  })

  afterEach(async () => {
    await rig.close()
    await pool.close()
  })

  it('starts a combinatorial job as primes.pi-split (the shards carry the easy leaves) and counts exactly', async () => {
    rig.jobs.start()
    const last = await lastEvent(rig.control.call('jobs.start', { from: FROM.toString(), to: TO.toString(), method: 'combinatorial' }))
    expect(last.type).toBe('done')
    expect(BigInt(last.report.count)).toBe(COUNT)
    expect(new JobJournal(rig.db).listJobs().map(j => j.kind)).toEqual([PRIMES_PI_SPLIT_KIND])
  })

  it('resumes a primes.pi job of an older journal the old way (easy leaves on the coordinator), exactly', async () => {
    const journal = new JobJournal(rig.db)
    journal.createJob({ id: 'old', kind: PRIMES_PI_KIND, from: FROM, to: TO, verify: false, created: Date.now() })
    // A shard that job had finished: hard leaves alone. Resumed the new way, the easy leaves
    // of its units would be missing from the count.
    const range = { index: 0, from: 0n, to: 29_999n }
    const { sum } = await piecesOnPool(pool, piecesOf(planPiJob(FROM, TO), range), new AbortController().signal, () => {})
    const shards = journal.journalFor('old')
    shards.shardCut(range)
    shards.shardDone({ ...range, result: resultOfSum(sum), peer: 'self', attempts: 1, seconds: 0.1 })
    rig.jobs.start()
    const last = await lastEvent(rig.control.call('jobs.watch', { id: 'old' }))
    expect(last.type).toBe('done')
    expect(BigInt(last.report.count)).toBe(COUNT)
  })
})
