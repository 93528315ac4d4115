import { afterAll, expect, it } from 'vitest'
import { sees, startMesh, waitUntil, type MeshProcess } from '../utils/mesh-process.ts'
import { runMesh } from '../utils/run-mesh.ts'

let nodes: MeshProcess[] = []
afterAll(async () => { await Promise.all(nodes.map(async n => { await n.destroy() })) })

it('mesh stats --mesh gathers every live node\'s stats, and skips the dead', async () => {
  nodes = await startMesh(['alice', 'bob', 'carol'])
  const [alice, bob, carol] = nodes
  await waitUntil('alice sees bob and carol', async () => await sees(alice, bob, 'alive') && await sees(alice, carol, 'alive'))
  // Membership also has to carry the services: node.stats is discovered like any rpc method.
  await waitUntil('every node advertises node.stats', async () => {
    const { members } = await alice.peers()
    return members.length === 3 && members.every(m => m.services.includes('node.stats'))
  })

  const all = await runMesh(['stats', '--mesh', '--json', '--home', alice.home])
  expect(all.code).toBe(0)
  const gathered = JSON.parse(all.stdout)
  expect(gathered.nodes.map((n: any) => n.nick).sort()).toEqual(['alice', 'bob', 'carol'])
  expect(gathered.unreachable).toEqual([])
  for (const n of gathered.nodes) expect(n.metrics.mesh_membership_heartbeats_sent_total.total).toBeGreaterThan(0)

  carol.signal('SIGKILL')
  await waitUntil('carol dead on alice', async () => await sees(alice, carol, 'dead'))
  const rest = JSON.parse((await runMesh(['stats', '--mesh', '--json', '--home', alice.home])).stdout)
  expect(rest.nodes.map((n: any) => n.nick).sort()).toEqual(['alice', 'bob'])

  const human = await runMesh(['stats', '--mesh', '--home', alice.home])
  expect(human.stdout).toMatch(/^alice \S+, up \d+s/m)
  expect(human.stdout).toMatch(/^bob \S+, up \d+s/m)
})
