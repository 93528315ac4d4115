import { afterAll, expect, it } from 'vitest'
import { sleep, startMesh, type MeshProcess } from '../utils/mesh-process.ts'
import { runMesh } from '../utils/run-mesh.ts'

const BUSY_FOR_MS = 20_000
/** Where the shards start: each call keeps one of bob's workers busy; two keep both cores busy. */
const FIRST = 1_000_000_000_000n

let nodes: MeshProcess[] = []
afterAll(async () => { await Promise.all(nodes.map(async n => { await n.destroy() })) })

/**
 * CPU work runs in worker threads, never on the event loop, so a node whose workers keep
 * both cores at 100% still beats on time: no peer may suspect it, let alone declare it dead.
 */
it('a node whose workers keep both cores busy for 20 s stays alive on its peers', async () => {
  nodes = await startMesh(['alice', 'bob'], ['--workers', '2'])
  const [alice, bob] = nodes
  while ((await alice.stateOf(bob.id)) !== 'alive' || (await bob.stateOf(alice.id)) !== 'alive') await sleep(50)

  const started = Date.now()
  let callsDone = 0
  let callsFailed = 0
  const burn = async (): Promise<void> => {
    while (Date.now() - started < BUSY_FOR_MS) {
      // Narrow enough to finish in seconds, so the burn ends near 20 s whatever the kernel's speed.
      const width = 2_000_000_000n
      const from = FIRST + BigInt(callsDone + callsFailed) * width
      const run = await runMesh(['call', 'primes.count', JSON.stringify({ from: from.toString(), to: (from + width).toString() }),
        '--peer', 'bob', '--home', alice.home, '--timeout', '120000', '--json'])
      if (run.code === 0) callsDone++
      else callsFailed++
    }
  }

  const seenStates = new Set<string>()
  const watch = async (): Promise<void> => {
    while (Date.now() - started < BUSY_FOR_MS) {
      seenStates.add(`alice sees bob ${String(await alice.stateOf(bob.id))}`)
      seenStates.add(`bob sees alice ${String(await bob.stateOf(alice.id))}`)
      await sleep(100)
    }
  }
  await Promise.all([burn(), burn(), watch()])

  expect(callsFailed).toBe(0)
  expect(callsDone).toBeGreaterThanOrEqual(2)
  expect([...seenStates].sort()).toEqual(['alice sees bob alive', 'bob sees alice alive'])
  // bob really was busy: its workers served the shards.
  const stats = await runMesh(['stats', '--home', bob.home, '--json'])
  expect(JSON.parse(stats.stdout).metrics.mesh_primes_shards_served_total['outcome=ok']).toBe(callsDone)
}, 90_000)
