import { afterEach, expect, it } from 'vitest'
import { callNode } from '../../cli/control-client.ts'
import { MeshProcess, sees, waitForHeartbeats, waitUntil } from '../utils/mesh-process.ts'

const args = ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0']
const env = { MESH_TEST_HOOKS: '1' }
let nodes: MeshProcess[] = []
afterEach(async () => { await Promise.all(nodes.map(async n => { await n.destroy() })); nodes = [] })

async function startPair (): Promise<[MeshProcess, MeshProcess]> {
  const alice = await MeshProcess.start({ name: 'alice', args, env })
  const bob = await MeshProcess.start({ name: 'bob', args, env, bootstrap: [alice.bootstrapAddr] })
  nodes = [alice, bob]
  await waitUntil('alice sees bob', async () => await sees(alice, bob, 'alive'))
  return [alice, bob]
}

it('an internal error is one line on stderr and a count; the node keeps running', async () => {
  const [alice, bob] = await startPair()
  await callNode(bob.home, 'test.fault', { kind: 'exception' })
  await callNode(bob.home, 'test.fault', { kind: 'rejection' })
  await waitUntil('both errors counted', async () => {
    const stats = await callNode(bob.home, 'stats')
    const counted = stats.metrics.mesh_internal_errors_total ?? {}
    return counted['kind=uncaught-exception'] === 1 && counted['kind=unhandled-rejection'] === 1
  })
  expect(bob.output).toMatch(/^mesh: internal error \(uncaught-exception\): Error: injected fault$/m)
  expect(bob.output).toMatch(/^mesh: internal error \(unhandled-rejection\): Error: injected fault$/m)
  expect(bob.output).not.toMatch(/at .*\.ts:\d+/) // no stack trace without DEBUG
  // Still a member in good standing: its heartbeats keep coming (alice hears only bob, and
  // the first of these may have left before the faults, the others did not) and both sides
  // still show each other alive.
  await waitForHeartbeats([alice], 3)
  expect(await sees(alice, bob, 'alive')).toBe(true)
  expect(await sees(bob, alice, 'alive')).toBe(true)
})

it('a burst of internal errors: it leaves cleanly (peers see left) and exits 70', async () => {
  const [alice, bob] = await startPair()
  for (let i = 0; i < 11; i++) await callNode(bob.home, 'test.fault', { kind: 'exception' }).catch(() => {})
  expect(await bob.waitForExit(15_000)).toBe(70)
  await waitUntil('alice sees bob left', async () => await sees(alice, bob, 'left'))
})
