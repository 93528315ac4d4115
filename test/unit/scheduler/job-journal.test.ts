import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { JobJournal } from '../../../node/compute/scheduler/job-journal.ts'
import { MeshDatabase } from '../../../node/store/database.ts'
import { FakeClock, makeScheduler, runToEnd, truth } from './helpers.ts'

const FROM = 2_000_000n
const TO = 12_000_000n

describe('job journal', () => {
  let home: string
  let db: MeshDatabase
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'mesh-journal-'))
    db = new MeshDatabase(home)
  })
  afterEach(async () => {
    db.close()
    await rm(home, { recursive: true, force: true })
  })

  it('resumes a job after a crash, redoing only the shards that were in flight', () => {
    const journal = new JobJournal(db)
    journal.createJob({ id: 'j1', kind: 'primes.count', from: FROM, to: TO, verify: false, created: 1 })
    const clock = new FakeClock()
    const first = makeScheduler(clock, { from: FROM, to: TO, journal: journal.journalFor('j1') })
    first.upsertPeer({ id: 'a', slots: 1 })
    first.upsertPeer({ id: 'b', slots: 1 })
    // Two rounds of work: the first round finishes, the second is in flight at the crash.
    const round1 = first.nextAssignments()
    for (const a of round1) first.result(a.attempt, truth(a.range.from, a.range.to), 0.5)
    const inFlight = first.nextAssignments()
    expect(inFlight.length).toBeGreaterThan(0)

    // The coordinator dies here (kill -9): a fresh process opens the same database.
    db.close()
    db = new MeshDatabase(home)
    const reopened = new JobJournal(db)
    expect(reopened.listJobs('running').map(j => j.id)).toEqual(['j1'])
    const restored = reopened.loadShards('j1')
    expect(restored.filter(s => s.result != null).map(s => s.index).sort()).toEqual(round1.map(a => a.range.index).sort())
    expect(restored.filter(s => s.result == null).map(s => s.index).sort()).toEqual(inFlight.map(a => a.range.index).sort())

    const second = makeScheduler(clock, { from: FROM, to: TO, journal: reopened.journalFor('j1'), restored })
    second.upsertPeer({ id: 'a', slots: 1 })
    second.upsertPeer({ id: 'c', slots: 1 })
    const redone = runToEnd(second, clock)
    const done = new Set(round1.map(a => a.range.index))
    expect(redone.some(a => done.has(a.range.index))).toBe(false)
    const report = second.report()
    const expected = truth(FROM, TO)
    expect(report.count).toBe(expected.count)
    expect(report.sum).toBe(expected.sum)

    // Each shard once in the journal, covering [FROM, TO] exactly.
    const rows = db.db.prepare('SELECT "index", "from", "to", state, count FROM shards WHERE job = ? ORDER BY "index"').all('j1') as any[]
    expect(rows.every(r => r.state === 'done')).toBe(true)
    expect(BigInt(rows[0].from)).toBe(FROM)
    expect(BigInt(rows.at(-1).to)).toBe(TO)
    for (let i = 1; i < rows.length; i++) expect(BigInt(rows[i].from)).toBe(BigInt(rows[i - 1].to) + 1n)
    expect(rows.reduce((n, r) => n + BigInt(r.count), 0n)).toBe(expected.count)
  })
})
