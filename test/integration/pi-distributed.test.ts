import { afterEach, describe, expect, it } from 'vitest'
import { MeshProcess, waitUntil } from '../utils/mesh-process.ts'
import { countOn, JOB_NODE_ARGS, jobsOf, journalShards, startJobMesh, waitForProgress } from '../utils/jobs-mesh.ts'
import { primecount } from '../unit/pi/primecount-oracle.ts'

// pi(3e15): about 20 s of one core here, half of it hard leaves spread over the peers.
const X = 3_000_000_000_000_000n

describe('distributed combinatorial pi(x) (3 processes on loopback)', () => {
  let nodes: MeshProcess[] = []

  afterEach(async () => {
    await Promise.all(nodes.map(async n => await n.destroy()))
    nodes = []
  })

  it('is exact when a peer is killed with -9 in the middle of the hard leaves', async () => {
    const expected = await primecount(X)
    nodes = await startJobMesh(['coord', 'w1', 'w2'])
    const [coord, w1] = nodes
    const run = countOn(coord, 0n, X, ['--method', 'combinatorial'])
    await waitForProgress(coord, 0.05)
    w1.signal('SIGKILL')
    const { code, stdout, stderr } = await run
    expect(code, stderr).toBe(0)
    const out = JSON.parse(stdout)
    expect(out.method).toBe('combinatorial')
    expect(BigInt(out.count)).toBe(expected)
    // The killed peer's shards in flight were taken back and done elsewhere.
    expect(out.reassigned).toBeGreaterThan(0)
    // Hard-leaf shards ran on more than one peer.
    expect(out.peers.filter((p: { shards: number }) => p.shards > 0).length).toBeGreaterThan(1)
    // The journal's shards tile the hard-leaf blocks exactly once, all done.
    const [job] = await jobsOf(coord)
    expect(job.result?.method).toBe('combinatorial')
    const rows = journalShards(coord.home, job.id)
    expect(rows[0].from).toBe(0n)
    rows.forEach((r, i) => {
      expect(r.state).toBe('done')
      if (i > 0) expect(r.from).toBe(rows[i - 1].to + 1n)
    })
  }, 300_000)

  it('runs every hard-leaf shard on two peers with --verify and still adds up exactly', async () => {
    const x = 200_000_000_000_000n
    const expected = await primecount(x)
    nodes = await startJobMesh(['coord', 'w1', 'w2'])
    const { code, stdout, stderr } = await countOn(nodes[0], 0n, x, ['--method', 'combinatorial', '--verify'])
    expect(code, stderr).toBe(0)
    const out = JSON.parse(stdout)
    expect(BigInt(out.count)).toBe(expected)
    expect(out.liars).toEqual([])
  }, 300_000)

  it('resumes from the journal when the coordinator is killed with -9 and restarted on its home', async () => {
    const expected = await primecount(X)
    nodes = await startJobMesh(['coord', 'w1', 'w2'])
    const [coord, w1] = nodes
    const run = countOn(coord, 0n, X, ['--method', 'combinatorial'])
    await waitForProgress(coord, 0.3)
    const [job] = await jobsOf(coord)
    coord.signal('SIGKILL')
    expect((await run).code).not.toBe(0)
    await coord.waitForExit()
    const beforeRestart = journalShards(coord.home, job.id).filter(r => r.state === 'done')
    expect(beforeRestart.length).toBeGreaterThan(0)

    const again = await MeshProcess.start({ name: 'coord', home: coord.home, args: JOB_NODE_ARGS, bootstrap: [w1.bootstrapAddr] })
    nodes[0] = again
    await waitUntil('the resumed job to finish', async () => (await jobsOf(again)).find(j => j.id === job.id)?.state === 'done', 240_000, 200)
    const finished = (await jobsOf(again)).find(j => j.id === job.id)
    expect(finished?.result?.method).toBe('combinatorial')
    expect(BigInt(finished?.result?.count)).toBe(expected)
    // Shards done before the crash were not done again.
    const rows = journalShards(again.home, job.id)
    for (const done of beforeRestart) expect(rows[done.index]).toEqual(done)
  }, 300_000)

  it('answers a small count at once while a big one holds the only worker with its easy terms', async () => {
    // One worker: pi(1e17)'s easy terms hold it for seconds before any hard-leaf shard runs.
    nodes = await startJobMesh(['solo'])
    const [solo] = nodes
    const big = countOn(solo, 0n, 100_000_000_000_000_000n, ['--method', 'combinatorial'])
    await waitUntil('the big count running', async () => (await jobsOf(solo)).some(j => j.state === 'running'), 30_000, 50)
    const small = await countOn(solo, 1n, 10_000_000_000n, ['--method', 'combinatorial'])
    expect(small.code, small.stderr).toBe(0)
    expect(String(JSON.parse(small.stdout).count)).toBe('455052511')
    // The big count has not done one hard-leaf shard yet: the small one did not wait behind
    // its easy terms, nor behind its shards queued for the same worker.
    const bigJob = (await jobsOf(solo)).find(j => j.state === 'running')
    expect(bigJob?.progress).toBe(0)
    await solo.destroy()
    await big
  }, 120_000)
})
