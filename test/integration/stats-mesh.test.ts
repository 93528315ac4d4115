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

  // For people: a summary row per node and a total row, short; the raw counters with --verbose.
  await runMesh(['task', 'calc', 'sum', '1', '2', '--peer', 'bob', '--home', alice.home])
  const human = await runMesh(['stats', '--mesh', '--home', alice.home])
  const lines = human.stdout.trimEnd().split('\n')
  expect(lines[0]).toMatch(/^NODE +UP +CONNECTIONS +ALIVE +WORKERS FREE +WORKERS +RPC SERVED +SHARDS +CHAT IN +DROPPED$/)
  expect(lines.slice(1, 3).map(l => l.split(/\s+/)[0]).sort()).toEqual(['alice', 'bob'])
  const bobRow = lines.find(l => l.startsWith('bob'))!.split(/\s+/)
  expect(Number(bobRow[6])).toBeGreaterThanOrEqual(2) // node.stats from alice, and the calc
  expect(lines[3]).toMatch(/^all 2 nodes +\d+ +\d+ +\d+ +\d+ +\d+ +\d+$/)
  expect(lines).toHaveLength(4)
  const verbose = await runMesh(['stats', '--mesh', '--verbose', '--home', alice.home])
  expect(verbose.stdout).toMatch(/^alice \S+, up \d+s/m)
  expect(verbose.stdout).toMatch(/^bob \S+, up \d+s/m)
  expect(verbose.stdout).toMatch(/^ {2}mesh_membership_heartbeats_sent_total \d+$/m)
})
