import type { MeshDatabase } from '../../store/database.ts'
import type { JournalShard, SchedulerJournal, ShardRange, ShardResult } from './types.ts'

/**
 * The job journal in `<home>/mesh.db`: every cut shard and every accepted result, written
 * as it happens, so a coordinator killed with -9 resumes its job redoing only the shards
 * that were in flight (primecount's "backup" edition). Big numbers are decimal TEXT.
 */
export const JOURNAL_MIGRATIONS = [
  `CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    "from" TEXT NOT NULL,
    "to" TEXT NOT NULL,
    verify INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    created INTEGER NOT NULL,
    finished INTEGER,
    result TEXT,
    error TEXT
  );
  CREATE TABLE shards (
    job TEXT NOT NULL REFERENCES jobs(id),
    "index" INTEGER NOT NULL,
    "from" TEXT NOT NULL,
    "to" TEXT NOT NULL,
    state TEXT NOT NULL,
    count TEXT,
    sum TEXT,
    first TEXT,
    last TEXT,
    peer TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    seconds REAL,
    PRIMARY KEY (job, "index")
  );`
]

export type JobState = 'running' | 'done' | 'failed' | 'cancelled'

export interface JobRow {
  id: string
  kind: string
  from: bigint
  to: bigint
  verify: boolean
  state: JobState
  created: number
  finished: number | null
  /** The report as JSON text (numbers as decimal strings), once done. */
  result: string | null
  error: string | null
  doneShards: number
  cutShards: number
  /** Share of [from, to] whose shards are done. */
  fraction: number
}

const text = (v: bigint | null | undefined): string | null => v == null ? null : v.toString()
const big = (v: unknown): bigint | null => v == null ? null : BigInt(v as string)

export class JobJournal {
  private readonly db: MeshDatabase

  constructor (db: MeshDatabase) {
    this.db = db
    db.migrate('jobs', JOURNAL_MIGRATIONS)
  }

  createJob (job: { id: string, kind: string, from: bigint, to: bigint, verify: boolean, created: number }): void {
    this.db.db.prepare('INSERT INTO jobs (id, kind, "from", "to", verify, state, created) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(job.id, job.kind, job.from.toString(), job.to.toString(), job.verify ? 1 : 0, 'running', job.created)
  }

  finishJob (id: string, state: Exclude<JobState, 'running'>, finished: number, outcome: { result?: string, error?: string }): void {
    this.db.db.prepare('UPDATE jobs SET state = ?, finished = ?, result = ?, error = ? WHERE id = ?')
      .run(state, finished, outcome.result ?? null, outcome.error ?? null, id)
  }

  /** The scheduler's hooks for one job. */
  journalFor (job: string): SchedulerJournal {
    const cut = this.db.db.prepare('INSERT OR REPLACE INTO shards (job, "index", "from", "to", state, attempts) VALUES (?, ?, ?, ?, \'pending\', 0)')
    const started = this.db.db.prepare('UPDATE shards SET state = \'running\', peer = ?, attempts = ? WHERE job = ? AND "index" = ? AND state != \'done\'')
    const requeued = this.db.db.prepare('UPDATE shards SET state = \'pending\' WHERE job = ? AND "index" = ? AND state != \'done\'')
    const done = this.db.db.prepare('UPDATE shards SET state = \'done\', count = ?, sum = ?, first = ?, last = ?, peer = ?, attempts = ?, seconds = ? WHERE job = ? AND "index" = ?')
    return {
      shardCut: (s: ShardRange) => { cut.run(job, s.index, s.from.toString(), s.to.toString()) },
      shardStarted: (index, peer, attempts) => { started.run(peer, attempts, job, index) },
      shardRequeued: index => { requeued.run(job, index) },
      shardDone: s => {
        const r = s.result as ShardResult
        done.run(r.count.toString(), r.sum.toString(), text(r.first), text(r.last), s.peer ?? null, s.attempts, s.seconds ?? null, job, s.index)
      }
    }
  }

  loadShards (job: string): JournalShard[] {
    const rows = this.db.db.prepare('SELECT * FROM shards WHERE job = ? ORDER BY "index"').all(job) as any[]
    return rows.map(row => ({
      index: Number(row.index),
      from: BigInt(row.from),
      to: BigInt(row.to),
      attempts: Number(row.attempts),
      peer: row.peer ?? undefined,
      seconds: row.seconds ?? undefined,
      result: row.state === 'done' ? { count: BigInt(row.count), sum: BigInt(row.sum), first: big(row.first), last: big(row.last) } : undefined
    }))
  }

  getJob (id: string): JobRow | undefined {
    return this.listJobs().find(j => j.id === id)
  }

  listJobs (state?: JobState): JobRow[] {
    const rows = this.db.db.prepare(`SELECT j.*,
        (SELECT COUNT(*) FROM shards s WHERE s.job = j.id AND s.state = 'done') AS done_shards,
        (SELECT COUNT(*) FROM shards s WHERE s.job = j.id) AS cut_shards
      FROM jobs j ${state != null ? 'WHERE j.state = ?' : ''} ORDER BY j.created`).all(...(state != null ? [state] : [])) as any[]
    return rows.map(row => {
      const from = BigInt(row.from)
      const to = BigInt(row.to)
      return {
        id: row.id,
        kind: row.kind,
        from,
        to,
        verify: row.verify === 1,
        state: row.state,
        created: Number(row.created),
        finished: row.finished == null ? null : Number(row.finished),
        result: row.result,
        error: row.error,
        doneShards: Number(row.done_shards),
        cutShards: Number(row.cut_shards),
        fraction: row.state === 'done' ? 1 : this.doneFraction(row.id, from, to)
      }
    })
  }

  private doneFraction (job: string, from: bigint, to: bigint): number {
    const rows = this.db.db.prepare('SELECT "from", "to" FROM shards WHERE job = ? AND state = \'done\'').all(job) as any[]
    let width = 0n
    for (const r of rows) width += BigInt(r.to) - BigInt(r.from) + 1n
    return Number(width * 1_000_000n / (to - from + 1n)) / 1_000_000
  }
}
