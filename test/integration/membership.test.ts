import { afterEach, describe, expect, it } from 'vitest'
import { counter, MeshProcess, sees, startMesh, waitForHeartbeats, waitUntil } from '../utils/mesh-process.ts'
import { runMesh } from '../utils/run-mesh.ts'

/**
 * Real `mesh start` processes on loopback, bootstrapped from the first. Each test checks
 * what a user would look at: the state every other node shows for the one we hurt.
 */
describe('membership across real processes', () => {
  let nodes: MeshProcess[] = []
  afterEach(async () => {
    await Promise.all(nodes.map(async n => { await n.destroy() }))
    nodes = []
  })

  async function allAlive (): Promise<void> {
    await waitUntil('every node to see every node alive', async () => {
      for (const observer of nodes) {
        const { members } = await observer.peers()
        const alive = members.filter(m => m.state === 'alive').map(m => m.id).sort()
        if (alive.join() !== nodes.map(n => n.id).sort().join()) return false
      }
      return true
    }, 10_000)
  }

  it('three nodes see each other alive, with nick and worker capacity', async () => {
    nodes = await startMesh(['alice', 'bob', 'carol'])
    await allAlive()
    const { self, members } = await nodes[2].peers()
    expect(self).toBe(nodes[2].id)
    expect(members.map(m => m.nick).sort()).toEqual(['alice', 'bob', 'carol'])
    for (const m of members) {
      expect(m.workers.total).toBeGreaterThan(0)
      expect(m.addrs.every(a => a.endsWith(`/p2p/${m.id}`))).toBe(true)
    }
  })

  it('kill -9: the others show it dead', async () => {
    nodes = await startMesh(['alice', 'bob', 'carol'])
    await allAlive()
    const [alice, bob, carol] = nodes
    bob.signal('SIGKILL')
    await waitUntil('bob dead on alice and carol', async () => await sees(alice, bob, 'dead') && await sees(carol, bob, 'dead'), 10_000)
    expect(await sees(alice, carol, 'alive')).toBe(true)
  })

  it('SIGSTOP: suspect, then dead; SIGCONT: alive again', async () => {
    nodes = await startMesh(['alice', 'bob', 'carol'])
    await allAlive()
    const [alice, bob, carol] = nodes
    bob.signal('SIGSTOP')
    await waitUntil('bob suspect on alice', async () => await sees(alice, bob, 'suspect'), 10_000, 20)
    await waitUntil('bob dead on alice and carol', async () => await sees(alice, bob, 'dead') && await sees(carol, bob, 'dead'), 10_000)
    bob.signal('SIGCONT')
    await waitUntil('bob alive again on alice and carol', async () => await sees(alice, bob, 'alive') && await sees(carol, bob, 'alive'), 10_000)
    // And bob, who was asleep, did not blame the others for his own silence.
    expect(await sees(bob, alice, 'alive')).toBe(true)
    expect(await sees(bob, carol, 'alive')).toBe(true)
  })

  it('SIGTERM: the others show it left, not dead, and it exits 0', async () => {
    nodes = await startMesh(['alice', 'bob', 'carol'])
    await allAlive()
    const [alice, bob, carol] = nodes
    bob.signal('SIGTERM')
    await waitUntil('bob left on alice and carol', async () => await sees(alice, bob, 'left') && await sees(carol, bob, 'left'), 5000, 20)
    expect(await bob.waitForExit()).toBe(0)
    // Stays left: no late "dead" verdict after the connection closes. Such a verdict could
    // only come from the probe the closed connection starts (150 ms grace, then at most two
    // pings of one heartbeat interval each) or from the other observer's gossip, which
    // travels with its heartbeats; left members have no silence timers. Four more heartbeats
    // on each observer span at least three intervals of its own time, more than the probe.
    await waitForHeartbeats([alice, carol], 4)
    expect(await alice.stateOf(bob.id)).toBe('left')
    expect(await carol.stateOf(bob.id)).toBe('left')
  })

  it('SIGHUP (the terminal or session went away) is a leave too, exit 0', async () => {
    nodes = await startMesh(['alice', 'bob'])
    await allAlive()
    const [alice, bob] = nodes
    bob.signal('SIGHUP')
    await waitUntil('bob left on alice', async () => await sees(alice, bob, 'left'), 5000, 20)
    expect(await bob.waitForExit()).toBe(0)
  })

  it('a restart with the same home keeps the peer id and comes back alive', async () => {
    nodes = await startMesh(['alice', 'bob'])
    await allAlive()
    const [alice, bob] = nodes
    const bobId = bob.id
    bob.signal('SIGKILL')
    await waitUntil('bob dead on alice', async () => await sees(alice, bob, 'dead'), 10_000)
    await bob.destroy(true)
    const again = await MeshProcess.start({ name: 'bob', home: bob.home, args: ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0'], bootstrap: [alice.bootstrapAddr] })
    nodes = [alice, again]
    expect(again.id).toBe(bobId)
    await waitUntil('bob alive again on alice', async () => await sees(alice, again, 'alive'), 10_000)
  })

  it('a second start on the same home is refused with a clear message', async () => {
    nodes = await startMesh(['alice'])
    const second = await runMesh(['start', '--home', nodes[0].home, '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0'])
    expect(second.code).toBe(1)
    expect(second.stderr).toMatch(/^mesh: a node already runs in .* \(pid \d+\)/)
    expect(second.stderr.trim().split('\n')).toHaveLength(1)
    // The first node is untouched.
    expect((await nodes[0].peers()).self).toBe(nodes[0].id)
  })

  it('chained bootstrap: carol knows only bob, bob knows alice; alice and carol list each other at once, through a connection', async () => {
    const alice = await MeshProcess.start({ name: 'alice' })
    nodes = [alice]
    const bob = await MeshProcess.start({ name: 'bob', bootstrap: [alice.bootstrapAddr] })
    nodes.push(bob)
    await waitUntil('alice and bob to see each other', async () => await sees(alice, bob, 'alive') && await sees(bob, alice, 'alive'), 10_000)
    const carol = await MeshProcess.start({ name: 'carol', bootstrap: [bob.bootstrapAddr] })
    nodes.push(carol)
    await allAlive()
    // Heard of through bob's gossip first, each a candidate of the other until a dial between
    // them connected: that is what admitted them.
    const admitted = async (n: MeshProcess): Promise<number> => await counter(n, 'mesh_membership_candidates_total', 'outcome=admitted')
    expect(await admitted(alice) + await admitted(carol)).toBeGreaterThanOrEqual(1)
  })
})
