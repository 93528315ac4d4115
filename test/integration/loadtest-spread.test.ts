import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EchoProcess, runLoadTest } from '../utils/echo-process.ts'
import { startMesh, waitUntil, type MeshProcess } from '../utils/mesh-process.ts'
import { delayingServer, type KnownServer } from '../utils/known-servers.ts'

/** `mesh loadtest --spread`: shares of the clients run on mesh peers over rpc, histograms merged. */
describe('mesh loadtest --spread', () => {
  let alice: MeshProcess
  let bob: MeshProcess
  let carol: MeshProcess
  beforeAll(async () => {
    // Serving shares of others' load tests is opt-in.
    [alice, bob, carol] = await startMesh(['alice', 'bob', 'carol'], ['--allow-loadtest'])
    await waitUntil('alice to see bob and carol offering loadtest.run', async () => {
      const { members } = await alice.peers()
      return members.filter(m => m.id !== alice.id && m.state === 'alive' && m.services.includes('loadtest.run')).length === 2
    }, 30_000)
  })
  afterAll(async () => { await Promise.all([alice, bob, carol].map(async n => await n?.destroy())) })

  it('splits the clients over this process and the two peers; every answer is counted once', async () => {
    const echo = await EchoProcess.start('event')
    try {
      const { code, report } = await runLoadTest([`127.0.0.1:${echo.port}`, '--clients', '10', '--messages', '20', '--spread', '--home', alice.home])
      expect(code).toBe(0)
      expect(report.clients).toBe(10)
      expect(report.messages).toBe(200)
      expect(report.peers.map((p: { clients: number }) => p.clients)).toEqual([4, 3, 3])
      expect(report.peers.map((p: { messages: number }) => p.messages)).toEqual([80, 60, 60])
      expect(new Set(report.peers.map((p: { id: string }) => p.id))).toEqual(new Set([alice.id, bob.id, carol.id]))
      const counters = await echo.stop()
      expect(counters.connections).toBe(10)
      expect(counters.bytesOut).toBe(200 * 32)
    } finally {
      echo.kill()
    }
  })

  it('merged percentiles are over every message: a 20 ms server reads 20 ms from all three', async () => {
    let server: KnownServer | null = null
    try {
      server = await delayingServer(20, 32)
      const { report } = await runLoadTest([`127.0.0.1:${server.port}`, '--clients', '6', '--messages', '10', '--spread', '--home', alice.home])
      expect(report.messages).toBe(60)
      expect(report.latencyUs.p50).toBeGreaterThanOrEqual(20_000 * 0.999)
      expect(report.latencyUs.p50).toBeLessThan(38_000)
    } finally {
      await server?.close()
    }
  })

  it('a target outside the local networks: refused before anything starts, exit 2', async () => {
    // A documentation address (TEST-NET-3): nothing is ever sent to it.
    const { code, run } = await runLoadTest(['203.0.113.7:7', '--clients', '3', '--messages', '1', '--spread', '--home', alice.home])
    expect(code).toBe(2)
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('a node started without --allow-loadtest offers no load test shares', async () => {
    const { MeshProcess } = await import('../utils/mesh-process.ts')
    const dave = await MeshProcess.start({ name: 'dave', bootstrap: [alice.bootstrapAddr] })
    try {
      await waitUntil('alice to see dave', async () => (await alice.peers()).members.some(m => m.id === dave.id && m.state === 'alive'), 20_000)
      const seen = (await alice.peers()).members.find(m => m.id === dave.id)
      expect(seen?.services).not.toContain('loadtest.run')
      expect(seen?.services).toContain('greeter.hello')
    } finally {
      await dave.destroy()
    }
  })
})

