import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callNode } from '../../cli/control-client.ts'
import { MeshProcess, waitUntil } from '../utils/mesh-process.ts'
import { runMesh } from '../utils/run-mesh.ts'
import { testNodePrefix } from '../utils/test-node.ts'

const LOOPBACK = ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0']
/** Long enough to catch a call in the middle of its handler, however loaded the machine. */
const HANDLER_DELAY_MS = 4000

/**
 * Fallback across real processes, test nodes all. alice serves no tasks, so her calls go
 * out; bob, carol and dave answer after a delay, so a test can see which of them took the
 * call and hurt exactly that one mid-call.
 */
describe('rpc fallback when the chosen peer goes away mid-call', () => {
  let alice: MeshProcess
  let servers: MeshProcess[] = []

  beforeAll(async () => {
    alice = await MeshProcess.start({ name: 'alice', args: LOOPBACK, prefix: testNodePrefix({ noTaskServices: true }) })
    servers = await Promise.all(['bob', 'carol', 'dave'].map(async name => await MeshProcess.start({
      name, args: LOOPBACK, bootstrap: [alice.bootstrapAddr], prefix: testNodePrefix({ taskDelayMs: HANDLER_DELAY_MS })
    })))
    await waitUntil('alice to see bob, carol and dave offering calc.sum', async () => {
      const { members } = await alice.peers()
      return members.filter(m => m.state === 'alive' && m.services.includes('calc.sum')).length === 3
    }, 20_000)
    expect((await alice.peers()).members.find(m => m.id === alice.id)?.services).not.toContain('calc.sum')
  })

  afterAll(async () => {
    await Promise.all([alice, ...servers].map(async n => { await n?.destroy() }))
  })

  /** The server whose handler is running the call right now. */
  async function busyServer (among: MeshProcess[]): Promise<MeshProcess> {
    let busy: MeshProcess | undefined
    await waitUntil('a server to be running the call', async () => {
      for (const s of among) {
        const stats = await callNode(s.home, 'stats')
        if ((stats.metrics.mesh_rpc_requests_in_flight?.total ?? 0) > 0) { busy = s; return true }
      }
      return false
    }, 20_000, 25)
    return busy!
  }

  it('kill -9 of the peer running the call: the call still answers, from another peer', async () => {
    const pending = runMesh(['task', 'calc', 'sum', '10', '20', '30', '40', '--json', '--timeout', '40000', '--home', alice.home])
    const victim = await busyServer(servers)
    victim.signal('SIGKILL')
    const run = await pending
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const out = JSON.parse(run.stdout)
    expect(out.result).toBe(100)
    expect(out.peer).not.toBe(victim.id)
    expect(servers.map(s => s.id)).toContain(out.peer)
    const stats = await callNode(alice.home, 'stats')
    expect(stats.metrics.mesh_rpc_retries_total['method=calc.sum']).toBeGreaterThanOrEqual(1)
    servers = servers.filter(s => s !== victim).concat(victim)
  })

  it('SIGSTOP of the peer running the call (a hang): the call falls back and answers', async () => {
    const alive = servers.slice(0, 2)
    await waitUntil('alice to no longer offer the killed peer to the balancer', async () => {
      const { members } = await alice.peers()
      return members.filter(m => m.state === 'alive' && m.services.includes('calc.sum')).length === 2
    }, 20_000)
    const pending = runMesh(['call', 'greeter.hello', '"Hello"', '--json', '--timeout', '40000', '--home', alice.home])
    const victim = await busyServer(alive)
    victim.signal('SIGSTOP')
    const run = await pending
    victim.signal('SIGCONT')
    expect(run.code).toBe(0)
    const out = JSON.parse(run.stdout)
    expect(out).toEqual({ result: 'World', peer: alive.find(s => s !== victim)!.id })
  })
})
