import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMesh, type MeshProcess } from '../utils/mesh-process.ts'
import { runMesh } from '../utils/run-mesh.ts'

/** What scripts rely on: exit codes, one-line errors, JSON on stdout only. */
describe('mesh CLI basics', () => {
  let emptyHome: string
  beforeAll(async () => { emptyHome = await mkdtemp(join(tmpdir(), 'mesh-empty-')) })
  afterAll(async () => { await rm(emptyHome, { recursive: true, force: true }) })

  const oneLine = (text: string): void => { expect(text.trim().split('\n')).toHaveLength(1) }

  it.each([
    [['frobnicate']],
    [['peers', '--bogus']],
    [['start', '--home', '/tmp/x', '--heartbeat', 'fast']],
    [['start', '--home', '/tmp/x', '--workers', '0']],
    [['start', '--home', '/tmp/x', '--no-mdns', '--listen', 'not-an-addr']],
    [['start', '--home', '/tmp/x', '--no-mdns', '--bootstrap', '/ip4/127.0.0.1/udp/1']],
    [['start', '--home', '/tmp/x', '--name', 'a name with spaces']],
    [['start', '--home', '/tmp/x', '--no-mdns', '--reap-after', '10']],
    [['start', '--home', '/tmp/x', '--no-mdns', '--reap-after', 'soon']]
  ])('misuse %j: one line on stderr with one prefix, exit 2', async (args) => {
    const run = await runMesh(args)
    expect(run.code).toBe(2)
    oneLine(run.stderr)
    expect(run.stderr).toMatch(/^mesh: /)
    expect(run.stderr).not.toMatch(/error:|is invalid\./)
    expect(run.stdout).toBe('')
  })

  it.each(['id', 'peers', 'stats'])('%s with no node running: one line saying how to start one, exit 1', async (cmd) => {
    const run = await runMesh([cmd, '--home', emptyHome])
    expect(run.code).toBe(1)
    oneLine(run.stderr)
    expect(run.stderr).toContain(`mesh start --home ${emptyHome}`)
  })

  it('swarm-key writes a key once and refuses to overwrite it', async () => {
    const file = join(emptyHome, 'swarm.key')
    expect((await runMesh(['swarm-key', file])).code).toBe(0)
    const again = await runMesh(['swarm-key', file])
    expect(again.code).toBe(1)
    oneLine(again.stderr)
  })

  it('a malformed swarm key: exit 2 before anything starts', async () => {
    const file = join(emptyHome, 'bad.key')
    await writeFile(file, 'not a key\n')
    const run = await runMesh(['start', '--home', join(emptyHome, 'n'), '--no-mdns', '--swarm-key', file])
    expect(run.code).toBe(2)
    oneLine(run.stderr)
  })

  describe('with a running node', () => {
    let node: MeshProcess
    beforeAll(async () => { [node] = await startMesh(['alice']) })
    afterAll(async () => { await node.destroy() })

    it('id --json: the contract shape, addresses ending in /p2p/ID', async () => {
      const run = await runMesh(['id', '--home', node.home, '--json'])
      expect(run.code).toBe(0)
      const id = JSON.parse(run.stdout)
      expect(Object.keys(id).sort()).toEqual(['addrs', 'id', 'nick'])
      expect(id.nick).toBe('alice')
      expect(id.addrs.length).toBeGreaterThan(0)
      for (const a of id.addrs) expect(a.endsWith(`/p2p/${id.id}`)).toBe(true)
    })

    it('peers --json: self plus members with the contract fields', async () => {
      const run = await runMesh(['peers', '--home', node.home, '--json'])
      const peers = JSON.parse(run.stdout)
      expect(peers.self).toBe(node.id)
      expect(peers.members).toHaveLength(1)
      const me = peers.members[0]
      for (const key of ['id', 'nick', 'state', 'lastSeenMs', 'workers', 'load', 'services', 'addrs']) expect(me).toHaveProperty(key)
      expect(me.state).toBe('alive')
      expect(me.workers.total).toBeGreaterThan(0)
    })

    it('peers without --json: a table people can read', async () => {
      const run = await runMesh(['peers', '--home', node.home])
      expect(run.stdout).toMatch(/^NICK\s+ID\s+STATE/)
      expect(run.stdout).toMatch(/alice \(you\)\s+…\S{6}\s+alive/)
    })

    it('stats --json: counters of this node', async () => {
      const run = await runMesh(['stats', '--home', node.home, '--json'])
      const stats = JSON.parse(run.stdout)
      expect(stats.id).toBe(node.id)
      expect(stats.members.alive).toBe(1)
      expect(stats.metrics.mesh_control_requests_total).toBeDefined()
    })

    it('a listen address already in use: one line, exit 1, nothing left running', async () => {
      const port = node.bootstrapAddr.split('/')[4]
      const run = await runMesh(['start', '--home', join(emptyHome, 'busy'), '--no-mdns', '--listen', `/ip4/127.0.0.1/tcp/${port}`], { timeoutMs: 20_000 })
      expect(run.code).toBe(1)
      expect(run.stderr).toBe(`mesh: cannot listen on /ip4/127.0.0.1/tcp/${port}: the address is in use or not on this machine\n`)
    })

    it('MESH_HOME is the default home', async () => {
      const run = await runMesh(['id', '--json'], { env: { MESH_HOME: node.home } })
      expect(JSON.parse(run.stdout).id).toBe(node.id)
    })
  })
})
