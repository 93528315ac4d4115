import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { JobJournal } from '../../../node/compute/scheduler/job-journal.ts'
import { WorkerPool } from '../../../node/compute/worker-pool.ts'
import type { ControlHandler } from '../../../node/control/control-server.ts'
import { JobService } from '../../../node/jobs/job-service.ts'
import { piecesOnPool } from '../../../node/jobs/pi-executors.ts'
import { piecesOf, planPiJob, PRIMES_PI_KIND, PRIMES_PI_SPLIT_KIND, resultOfSum } from '../../../node/jobs/pi-job.ts'
import { MeshMetrics } from '../../../node/metrics/metrics.ts'
import { MeshDatabase } from '../../../node/store/database.ts'

// pi(1e11) - pi(1e9 - 1), primecount's values.
const FROM = 1_000_000_000n
const TO = 100_000_000_000n
const COUNT = 4_118_054_813n - 50_847_534n

/** The control socket as the job service sees it: a table of handlers. */
class FakeControl {
  readonly handlers = new Map<string, ControlHandler>()
  register (method: string, handler: ControlHandler): void { this.handlers.set(method, handler) }
  call (method: string, params: Record<string, unknown>): AsyncIterator<any> {
    const handler = this.handlers.get(method)
    if (handler == null) throw new Error(`no control method ${method}`)
    return (handler(params, new AbortController().signal) as AsyncIterable<unknown>)[Symbol.asyncIterator]()
  }
}

async function lastEvent (events: AsyncIterator<any>): Promise<any> {
  let last: any
  for (let next = await events.next(); next.done !== true; next = await events.next()) last = next.value
  return last
}

/** A combinatorial job on one node's real worker pool, both kinds: the new one and one resumed from an older journal. */
describe('combinatorial job kinds', () => {
  let home: string
  let db: MeshDatabase
  let control: FakeControl
  let pool: WorkerPool
  let jobs: JobService

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'mesh-pi-kinds-'))
    db = new MeshDatabase(home)
    control = new FakeControl()
    pool = new WorkerPool({ size: 1 })
    jobs = new JobService({
      db,
      control,
      members: () => [],
      rpc: { stream: () => { throw new Error('no remote peers in this test') } },
      pool,
      metrics: new MeshMetrics(),
      selfId: 'self'
    })
  })

  afterEach(async () => {
    await jobs.stop()
    await pool.close()
    db.close()
    await rm(home, { recursive: true, force: true })
  })

  it('starts a combinatorial job as primes.pi-split (the shards carry the easy leaves) and counts exactly', async () => {
    jobs.start()
    const last = await lastEvent(control.call('jobs.start', { from: FROM.toString(), to: TO.toString(), method: 'combinatorial' }))
    expect(last.type).toBe('done')
    expect(BigInt(last.report.count)).toBe(COUNT)
    expect(new JobJournal(db).listJobs().map(j => j.kind)).toEqual([PRIMES_PI_SPLIT_KIND])
  })

  it('resumes a primes.pi job of an older journal the old way (easy leaves on the coordinator), exactly', async () => {
    const journal = new JobJournal(db)
    journal.createJob({ id: 'old', kind: PRIMES_PI_KIND, from: FROM, to: TO, verify: false, created: Date.now() })
    // A shard that job had finished: hard leaves alone. Resumed the new way, the easy leaves
    // of its units would be missing from the count.
    const range = { index: 0, from: 0n, to: 29_999n }
    const { sum } = await piecesOnPool(pool, piecesOf(planPiJob(FROM, TO), range), new AbortController().signal, () => {})
    const shards = journal.journalFor('old')
    shards.shardCut(range)
    shards.shardDone({ ...range, result: resultOfSum(sum), peer: 'self', attempts: 1, seconds: 0.1 })
    jobs.start()
    const last = await lastEvent(control.call('jobs.watch', { id: 'old' }))
    expect(last.type).toBe('done')
    expect(BigInt(last.report.count)).toBe(COUNT)
  })
})
