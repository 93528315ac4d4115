import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MeshProcess } from '../utils/mesh-process.ts'
import { countOn, primesieveCount, startJobMesh } from '../utils/jobs-mesh.ts'
import { runMesh } from '../utils/run-mesh.ts'

const FROM = 1_000_000_000_000n
const TO = FROM + 1_000_000_000n

describe('distributed prime count: verify mode and the temporary node', () => {
  let nodes: MeshProcess[] = []
  const expected = primesieveCount(FROM, TO)

  beforeAll(async () => {
    // The third node is a test node whose primes.count lies about every shard.
    nodes = await startJobMesh(['coord', 'honest', 'liar'], { liar: { lie: true } })
  })
  afterAll(async () => {
    await Promise.all(nodes.map(async n => await n.destroy()))
  })

  it('--verify gives the exact count and names the lying peer', async () => {
    const [coord, , liar] = nodes
    const { code, stdout, stderr } = await countOn(coord, FROM, TO, ['--verify', '--method', 'sieve'])
    expect(code, stderr).toBe(0)
    const out = JSON.parse(stdout)
    expect(BigInt(out.count)).toBe(expected)
    expect(out.liars).toEqual([liar.id])
    // The journal, as a person reads it: when it started, and the result in words.
    const jobs = await runMesh(['jobs', '--home', coord.home])
    const [header, row] = jobs.stdout.split('\n')
    expect(header).toMatch(/^ID +STARTED +KIND +STATE +PROGRESS +RANGE +RESULT$/)
    expect(row).toMatch(new RegExp(`^\\S+ +\\d\\d:\\d\\d:\\d\\d +primes\\.count +done +100\\.0% +\\[${FROM}, ${TO}\\] +${expected} primes in [\\d.]+ s$`))
  })

  it('with no node in --home, a temporary node joins the mesh, counts and leaves', async () => {
    const [coord, honest] = nodes
    const home = await mkdtemp(join(tmpdir(), 'mesh-nonode-'))
    try {
      // --verify: the liar is a member too, and the temporary node may learn of it in time
      // to hand it a shard; verified, the count is exact either way.
      const { code, stdout, stderr } = await runMesh(['primes', 'count', FROM.toString(), (FROM + 500_000_000n).toString(), '--home', home,
        '--json', '--no-mdns', '--workers', '1', '--method', 'sieve', '--verify', '--bootstrap', coord.bootstrapAddr, '--bootstrap', honest.bootstrapAddr], { timeoutMs: 60_000 })
      expect(code, stderr).toBe(0)
      const out = JSON.parse(stdout)
      expect(BigInt(out.count)).toBe(primesieveCount(FROM, FROM + 500_000_000n))
      expect(out.peers.filter((p: any) => p.shards > 0).length).toBeGreaterThan(1)

      // Again from the same home: the same identity comes back, not a second stranger.
      const again = await runMesh(['primes', 'count', '2', '1000', '--home', home, '--json', '--no-mdns', '--workers', '1',
        '--bootstrap', coord.bootstrapAddr], { timeoutMs: 60_000 })
      expect(again.code, again.stderr).toBe(0)
      expect(JSON.parse(again.stdout).count).toBe(168)
      const temporary = (await coord.peers()).members.filter(m => m.nick.startsWith('count-'))
      expect(temporary).toHaveLength(1)
      expect(temporary[0].state).toBe('left')
    } finally {
      await rm(home, { recursive: true, force: true })
    }
  })
})
