import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ControlHandler } from '../../node/control/control-server.ts'
import { JobService, type JobServiceComponents } from '../../node/jobs/job-service.ts'
import { MeshMetrics } from '../../node/metrics/metrics.ts'
import { MeshDatabase } from '../../node/store/database.ts'

/** The control socket as the job service sees it: a table of handlers. */
export class FakeControl {
  readonly handlers = new Map<string, ControlHandler>()
  register (method: string, handler: ControlHandler): void { this.handlers.set(method, handler) }
  call (method: string, params: Record<string, unknown>, signal = new AbortController().signal): AsyncIterator<any> {
    const handler = this.handlers.get(method)
    if (handler == null) throw new Error(`no control method ${method}`)
    return (handler(params, signal) as AsyncIterable<unknown>)[Symbol.asyncIterator]()
  }
}

/** The last event of a control call's stream. */
export async function lastEvent (events: AsyncIterator<any>): Promise<any> {
  let last: any
  for (let next = await events.next(); next.done !== true; next = await events.next()) last = next.value
  return last
}

export interface JobServiceRig {
  home: string
  db: MeshDatabase
  control: FakeControl
  jobs: JobService
  /** Stops the service, closes the database and removes the home. */
  close: () => Promise<void>
}

/** A job service alone on one node (no remote peers) over a real database in a fresh home and `pool`. */
export async function jobServiceRig (pool: JobServiceComponents['pool']): Promise<JobServiceRig> {
  const home = await mkdtemp(join(tmpdir(), 'mesh-jobs-'))
  const db = new MeshDatabase(home)
  const control = new FakeControl()
  const jobs = new JobService({
    db,
    control,
    members: () => [],
    rpc: { stream: () => { throw new Error('no remote peers in this test') } },
    pool,
    metrics: new MeshMetrics(),
    selfId: 'self'
  })
  return {
    home,
    db,
    control,
    jobs,
    close: async () => {
      await jobs.stop()
      db.close()
      await rm(home, { recursive: true, force: true })
    }
  }
}
