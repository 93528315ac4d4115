import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { callNode } from '../../cli/control-client.ts'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { MeshProcess, waitUntil } from '../utils/mesh-process.ts'
import { runMesh } from '../utils/run-mesh.ts'

const LOOPBACK = ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0']
/** The outsiders log their dials, so the test sees each knock and its answer. */
const LOG_DIALS = { DEBUG: 'mesh:discovery*' }

/**
 * A private mesh: nodes started with the same `--swarm-key` file form a mesh; a node with a
 * different key, or none, cannot even open a connection to them (libp2p pnet), so it never
 * shows up in their member table and they never show up in its.
 */
describe('private mesh with a swarm key', () => {
  let dir: string
  let nodes: MeshProcess[] = []

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mesh-swarm-key-'))
  })
  afterEach(async () => {
    await Promise.all(nodes.map(async n => { await n.destroy() }))
    nodes = []
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  async function newKey (name: string): Promise<string> {
    const file = join(dir, name)
    const run = await runMesh(['swarm-key', file])
    expect(run.code, run.stderr).toBe(0)
    return file
  }

  async function memberIds (node: MeshProcess): Promise<string[]> {
    return (await node.peers()).members.map(m => m.id).sort()
  }

  /** `outsider` dialled `door`'s bootstrap address and the dial ended without a connection. */
  function turnedAway (outsider: MeshProcess, door: MeshProcess): boolean {
    return outsider.output.split('\n').some(line => line.includes(door.bootstrapAddr) && /\bfailed\b/.test(line))
  }

  it('mesh swarm-key writes a fresh key only its owner can read, and never overwrites one', async () => {
    const file = await newKey('a.key')
    const text = await readFile(file, 'utf8')
    expect(text).toMatch(/^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n?$/)
    expect((await stat(file)).mode & 0o777).toBe(0o600)

    const again = await runMesh(['swarm-key', file])
    expect(again.code).toBe(1)
    expect(again.stderr.trim().split('\n')).toHaveLength(1)
    expect(await readFile(file, 'utf8')).toBe(text)

    // Two keys are two different meshes.
    expect(await readFile(await newKey('b.key'), 'utf8')).not.toBe(text)
  })

  it('nodes with the same key see each other; a node with another key or none never joins', async () => {
    const key = await newKey('mesh.key')
    const otherKey = await newKey('other.key')
    const withKey = (file: string): string[] => [...LOOPBACK, '--swarm-key', file]

    const alice = await MeshProcess.start({ name: 'alice', args: withKey(key) })
    nodes.push(alice)
    const bob = await MeshProcess.start({ name: 'bob', args: withKey(key), bootstrap: [alice.bootstrapAddr] })
    nodes.push(bob)
    await waitUntil('alice and bob to show each other alive', async () =>
      (await alice.stateOf(bob.id)) === 'alive' && (await bob.stateOf(alice.id)) === 'alive', 15_000)

    // Three newcomers knock at the same time, on both doors. The one with the right key is
    // the control: it proves the doors were open to anyone holding the key.
    const both = [alice.bootstrapAddr, bob.bootstrapAddr]
    const [carol, mallory, eve] = await Promise.all([
      MeshProcess.start({ name: 'carol', args: withKey(key), bootstrap: both }),
      MeshProcess.start({ name: 'mallory', args: withKey(otherKey), bootstrap: both, env: LOG_DIALS }),
      MeshProcess.start({ name: 'eve', args: LOOPBACK, bootstrap: both, env: LOG_DIALS })
    ])
    nodes.push(carol, mallory, eve)
    const insiders = [alice, bob, carol].map(n => n.id).sort()
    await waitUntil('alice, bob and carol to show each other alive', async () => {
      for (const node of [alice, bob, carol]) {
        const alive = new Set((await node.peers()).members.filter(m => m.state === 'alive').map(m => m.id))
        if (!insiders.every(id => alive.has(id))) return false
      }
      return true
    }, 15_000)

    // Each outsider's first dial to each door has ended, and ended without a connection (with
    // another key the handshake is garbage to both sides and the dial times out; with none it
    // fails at once). That is enough: a retry meets the same key check, nobody dials the
    // outsiders (no mDNS, and no member knows their addresses), and carol, who knocked at the
    // same moment on the same doors, got in, so the doors were open to anyone with the key.
    await waitUntil('mallory and eve to be turned away by alice and bob', () =>
      [mallory, eve].every(outsider => [alice, bob].every(door => turnedAway(outsider, door))), 20_000, 100)

    for (const node of [alice, bob, carol]) {
      expect(await memberIds(node), `${node.name}'s member table`).toEqual(insiders)
    }
    for (const outsider of [mallory, eve]) {
      expect(await memberIds(outsider), `${outsider.name}'s member table`).toEqual([outsider.id])
      // Not merely unlisted: no connection to the private mesh was ever completed.
      const stats = await callNode(outsider.home, 'stats')
      expect(stats.connections, `${outsider.name}'s connections`).toBe(0)
    }
  })

  it('a malformed key file: mesh start exits 2 with a one-line reason', async () => {
    const cases: Array<[string, string | null]> = [
      ['not hex', '/key/swarm/psk/1.0.0/\n/base16/\nthis is not a hex key at all, not even close, no no no no no\n'],
      ['too short', '/key/swarm/psk/1.0.0/\n/base16/\n' + 'ab'.repeat(31) + '\n'],
      ['wrong header', '/key/swarm/psk/9.9.9/\n/base16/\n' + 'ab'.repeat(32) + '\n'],
      ['missing file', null]
    ]
    for (const [what, content] of cases) {
      const file = join(dir, `bad-${what.replaceAll(' ', '-')}.key`)
      if (content != null) await writeFile(file, content)
      const home = join(dir, `home-${what.replaceAll(' ', '-')}`)
      const run = await runMesh(['start', '--home', home, ...LOOPBACK, '--swarm-key', file], { timeoutMs: 20_000 })
      expect(run.code, `${what}: ${run.stderr}`).toBe(2)
      const lines = run.stderr.trim().split('\n')
      expect(lines, what).toHaveLength(1)
      expect(lines[0], what).toContain(file)
      expect(run.stdout, what).toBe('')
    }
  })
})
