import { mkdtemp, rm, stat } from 'node:fs/promises'
import { createConnection, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ControlServer } from '../../../node/control/control-server.ts'
import { registerCoreMethods } from '../../../node/control/core-methods.ts'
import type { Member } from '../../../node/membership/member.ts'
import { MeshMetrics } from '../../../node/metrics/metrics.ts'
import { NodeStats } from '../../../node/stats/node-stats.ts'
import { FakeClock } from '../../../node/time/fake-clock.ts'
import { BOB, heartbeat } from '../../utils/heartbeat.ts'

const ALICE = '12D3KooWAliceAliceAliceAliceAliceAliceAliceAliceAlic'

/** One request on the socket, as the CLI sends it; the first answer line. */
async function request (path: string, method: string, params: Record<string, unknown> = {}): Promise<any> {
  const socket = createConnection(path)
  socket.write(JSON.stringify({ v: 1, method, params }) + '\n')
  let text = ''
  for await (const chunk of socket) {
    text += String(chunk)
    if (text.includes('\n')) break
  }
  socket.destroy()
  return JSON.parse(text.slice(0, text.indexOf('\n')))
}

function memberFrom (fields: Partial<Member>, at: number): Member {
  const { type: _type, v: _v, ...hb } = heartbeat()
  return { ...hb, state: 'alive', lastSeenAt: at, stateSince: at, ...fields }
}

describe('control server', () => {
  let home: string
  let path: string
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'mesh-control-'))
    path = join(home, 'mesh.sock')
  })
  afterEach(async () => { await rm(home, { recursive: true, force: true }) })

  it('start twice is harmless; stop removes the socket; start after stop serves again', async () => {
    const control = new ControlServer({ metrics: new MeshMetrics() }, { path })
    control.register('echo', async params => params)
    await Promise.all([control.start(), control.start()])
    expect(await request(path, 'echo', { a: 1 })).toEqual({ result: { a: 1 } })

    await control.stop()
    await control.stop()
    await expect(stat(path)).rejects.toThrow(/ENOENT/)

    await control.start()
    expect(await request(path, 'echo', { b: 2 })).toEqual({ result: { b: 2 } })
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    await control.stop()
  })

  it('core methods: peers ages members on the node\'s clock; stats asks the node stats', async () => {
    const clock = new FakeClock()
    const seenAt = clock.now()
    const bob = memberFrom({ id: BOB }, seenAt)
    const self = memberFrom({ id: ALICE, nick: 'alice' }, seenAt)
    const membership = { selfMember: () => ({ ...self, lastSeenAt: clock.now() }), members: () => [bob], member: (id: string) => id === BOB ? bob : undefined }
    const rpcCalls: string[] = []
    const stats = new NodeStats({
      membership,
      connections: () => 3,
      metrics: new MeshMetrics(),
      rpc: {
        register: () => {},
        call: async (_service: string, _method: string, _args: unknown, opts?: { peer?: string }) => {
          rpcCalls.push(opts?.peer ?? '')
          return { result: { id: BOB, nick: 'bob' }, peer: BOB, attempts: 1 } as any
        }
      },
      clock
    })
    const control = new ControlServer({ metrics: new MeshMetrics() }, { path })
    registerCoreMethods(control, { peerId: ALICE, nick: 'alice', addrs: () => ['/ip4/127.0.0.1/tcp/1/p2p/' + ALICE], membership, stats, clock })
    await control.start()
    try {
      await clock.advance(2500)
      expect(await request(path, 'id')).toEqual({ result: { id: ALICE, nick: 'alice', addrs: ['/ip4/127.0.0.1/tcp/1/p2p/' + ALICE] } })
      const peers = (await request(path, 'peers')).result
      expect(peers.self).toBe(ALICE)
      expect(peers.members.map((m: any) => [m.nick, m.lastSeenMs])).toEqual([['alice', 0], ['bob', 2500]])

      const local = (await request(path, 'stats')).result
      expect(local).toMatchObject({ id: ALICE, nick: 'alice', uptimeSeconds: 3, connections: 3, members: { alive: 2, suspect: 0, dead: 0, left: 0 } })
      const mesh = (await request(path, 'stats', { mesh: true })).result
      expect(mesh.nodes.map((n: any) => n.nick)).toEqual(['alice', 'bob'])
      expect(mesh.unreachable).toEqual([])
      expect(rpcCalls).toEqual([BOB])
    } finally {
      await control.stop()
    }
  })

  it('idle connections cannot lock the owner out: over the cap a clear error, and silent ones are closed', async () => {
    const control = new ControlServer({ metrics: new MeshMetrics() }, { path, requestTimeoutMs: 300 })
    control.register('ping', async () => 'pong')
    await control.start()
    try {
      const idle = await Promise.all(Array.from({ length: 64 }, async () => await new Promise<Socket>((resolve, reject) => {
        const s = createConnection(path, () => { resolve(s) })
        s.once('error', reject)
      })))
      const closed = Promise.all(idle.map(async s => await new Promise(resolve => { s.once('close', resolve) })))
      // The 65th is told why, in the protocol's own error shape.
      const refused = await request(path, 'ping')
      expect(refused.error).toMatchObject({ name: 'ControlBusyError' })
      expect(refused.error.message).toMatch(/64 control connections/)
      // The silent ones are closed after the request timeout, and the owner gets in again.
      await closed
      expect(await request(path, 'ping')).toEqual({ result: 'pong' })
    } finally {
      await control.stop()
    }
  })
})
