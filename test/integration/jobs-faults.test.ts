import { afterEach, describe, expect, it } from 'vitest'
import { MeshProcess, waitUntil } from '../utils/mesh-process.ts'
import { checkJournal, countOn, JOB_NODE_ARGS, jobsOf, journalShards, primesieveCount, startJobMesh, waitForProgress } from '../utils/jobs-mesh.ts'

// About 10 s of one worker's sieving near 1e12: long enough to hurt a node in the middle.
const FROM = 1_000_000_000_000n
const TO = FROM + 10_000_000_000n

describe('distributed prime count under faults (3 processes on loopback)', () => {
  let nodes: MeshProcess[] = []
  const expected = primesieveCount(FROM, TO)

  afterEach(async () => {
    await Promise.all(nodes.map(async n => await n.destroy()))
    nodes = []
  })

  it('stays exact when a worker is killed (SIGKILL) halfway', async () => {
    nodes = await startJobMesh(['coord', 'w1', 'w2'])
    const [coord, w1] = nodes
    const run = countOn(coord, FROM, TO, ['--method', 'sieve'])
    await waitForProgress(coord, 0.5)
    w1.signal('SIGKILL')
    const { code, stdout, stderr } = await run
    expect(code, stderr).toBe(0)
    const out = JSON.parse(stdout)
    expect(BigInt(out.count)).toBe(expected)
    // The killed worker's shards went to the others.
    expect(out.reassigned).toBeGreaterThan(0)
    const [job] = await jobsOf(coord)
    checkJournal(journalShards(coord.home, job.id), FROM, TO, expected)
  })

  it('stays exact when a worker is stopped (SIGSTOP) until the end', async () => {
    nodes = await startJobMesh(['coord', 'w1', 'w2'])
    const [coord, , w2] = nodes
    const run = countOn(coord, FROM, TO, ['--method', 'sieve'])
    await waitForProgress(coord, 0.3)
    w2.signal('SIGSTOP')
    const { code, stdout, stderr } = await run
    expect(code, stderr).toBe(0)
    const out = JSON.parse(stdout)
    expect(BigInt(out.count)).toBe(expected)
    // The stopped worker's shards came back when their leases ran out (or a backup copy won).
    expect(out.reassigned + out.backups, stdout).toBeGreaterThan(0)
    const [job] = await jobsOf(coord)
    checkJournal(journalShards(coord.home, job.id), FROM, TO, expected)
  })

  it('resumes from the journal when the coordinator is killed and restarted on its home', async () => {
    nodes = await startJobMesh(['coord', 'w1', 'w2'])
    const [coord, w1] = nodes
    const run = countOn(coord, FROM, TO, ['--method', 'sieve'])
    await waitForProgress(coord, 0.4)
    const [job] = await jobsOf(coord)
    coord.signal('SIGKILL')
    const cli = await run
    expect(cli.code).not.toBe(0)
    await coord.waitForExit()
    const beforeRestart = journalShards(coord.home, job.id).filter(r => r.state === 'done')
    expect(beforeRestart.length).toBeGreaterThan(0)

    const again = await MeshProcess.start({ name: 'coord', home: coord.home, args: JOB_NODE_ARGS, bootstrap: [w1.bootstrapAddr] })
    nodes[0] = again
    await waitUntil('the resumed job to finish', async () => (await jobsOf(again)).find(j => j.id === job.id)?.state === 'done', 60_000, 200)
    const finished = (await jobsOf(again)).find(j => j.id === job.id)
    expect(BigInt(finished?.result?.count)).toBe(expected)
    const rows = journalShards(again.home, job.id)
    checkJournal(rows, FROM, TO, expected)
    // Shards done before the crash were not done again: same peer, same count, same attempts.
    for (const done of beforeRestart) expect(rows[done.index]).toEqual(done)
  })
})
