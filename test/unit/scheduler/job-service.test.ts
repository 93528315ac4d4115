import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { countRange } from '../../../node/compute/primes/count-range.ts'
import { JobJournal } from '../../../node/compute/scheduler/job-journal.ts'
import type { JobService } from '../../../node/jobs/job-service.ts'
import type { MeshDatabase } from '../../../node/store/database.ts'
import { jobServiceRig, type FakeControl, type JobServiceRig } from '../../utils/job-service-rig.ts'

const FROM = 0n
const TO = 3_000_000n

/**
 * A worker pool whose shards wait for `open()` (or their abort), then count for real.
 * Remembers every range it was asked for.
 */
class GatedPool {
  readonly size = 1
  readonly asked: string[] = []
  private opened = false
  private readonly waiting: Array<() => void> = []

  open (): void {
    this.opened = true
    for (const go of this.waiting.splice(0)) go()
  }

  run = async <T>(_task: string, input: any, options: { signal?: AbortSignal } = {}): Promise<T> => {
    this.asked.push(`${input.from as bigint}-${input.to as bigint}`)
    if (!this.opened) {
      await new Promise<void>((resolve, reject) => {
        this.waiting.push(resolve)
        options.signal?.addEventListener('abort', () => { reject(options.signal?.reason) }, { once: true })
      })
    }
    return { ...countRange(input.from, input.to), seconds: 0.001 } as T
  }
}

async function until (what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const started = Date.now()
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

describe('job service lifecycle', () => {
  let rig: JobServiceRig
  let pool: GatedPool
  let db: MeshDatabase
  let control: FakeControl
  let jobs: JobService

  beforeEach(async () => {
    pool = new GatedPool()
    rig = await jobServiceRig(pool)
    ;({ db, control, jobs } = rig)
  })

  afterEach(async () => {
    await rig.close()
  })

  it('start twice runs a journaled job once; stop keeps it; start after stop resumes it to the exact count', async () => {
    new JobJournal(db).createJob({ id: 'j1', kind: 'primes.count', from: FROM, to: TO, verify: false, created: Date.now() })
    jobs.start()
    jobs.start()
    await until('the resumed job to reach the pool', () => pool.asked.length > 0)
    // One runner: no shard asked for twice (a second runner would cut the same first shard again).
    expect(new Set(pool.asked).size).toBe(pool.asked.length)

    const watching = control.call('jobs.watch', { id: 'j1' })
    expect((await watching.next()).value).toEqual({ type: 'watching', id: 'j1' })
    const ended = watching.next()
    await jobs.stop()
    await expect(ended).rejects.toMatchObject({ name: 'JobCancelledError' })
    expect(new JobJournal(db).getJob('j1')?.state).toBe('running')
    // Stopped: no new jobs.
    expect(() => control.call('jobs.start', { from: '0', to: '100' })).toThrow(expect.objectContaining({ name: 'JobServiceStoppedError' }))

    pool.open()
    jobs.start()
    const resumed = control.call('jobs.watch', { id: 'j1' })
    let last: any
    for (let next = await resumed.next(); next.done !== true; next = await resumed.next()) last = next.value
    expect(last.type).toBe('done')
    expect(BigInt(last.report.count)).toBe(countRange(FROM, TO).count)
    expect(new JobJournal(db).getJob('j1')?.state).toBe('done')
  })

  it('jobs.start streams started, progress and done, and the journal holds the result', async () => {
    pool.open()
    jobs.start()
    const events: any[] = []
    const stream = control.call('jobs.start', { from: FROM.toString(), to: TO.toString() })
    for (let next = await stream.next(); next.done !== true; next = await stream.next()) events.push(next.value)
    expect(events[0]).toMatchObject({ type: 'started' })
    expect(events.at(-1)).toMatchObject({ type: 'done', id: events[0].id })
    expect(BigInt(events.at(-1).report.count)).toBe(countRange(FROM, TO).count)
    // Finished: a watch now reads the journal.
    const watch = control.call('jobs.watch', { id: events[0].id })
    expect((await watch.next()).value).toMatchObject({ type: 'finished', job: { state: 'done' } })
  })
})
