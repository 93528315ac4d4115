import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GatewayClient, gatewayAddress } from '../utils/gateway-client.ts'
import { MeshProcess, waitUntil } from '../utils/mesh-process.ts'
import { testNodePrefix } from '../utils/test-node.ts'

const LOOPBACK = ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0']

/**
 * The gateway as a balancing proxy: alice serves no greeter herself, so
 * every `hello` goes to bob or carol, whichever the balancer picks; the one serving is
 * killed with -9 in the middle of a stream, and the client still gets every answer.
 */
describe('gateway fallback when the serving peer is killed', () => {
  let alice: MeshProcess
  let servers: MeshProcess[] = []

  beforeAll(async () => {
    alice = await MeshProcess.start({ name: 'alice', args: [...LOOPBACK, '--gateway', '0'], prefix: testNodePrefix({ noTaskServices: true }) })
    servers = await Promise.all(['bob', 'carol'].map(async name => await MeshProcess.start({ name, args: LOOPBACK, bootstrap: [alice.bootstrapAddr] })))
    await waitUntil('alice to see bob and carol offering greeter.hello', async () => {
      const { members } = await alice.peers()
      return members.filter(m => m.state === 'alive' && m.services.includes('greeter.hello')).length === 2
    }, 20_000)
  })

  afterAll(async () => {
    await Promise.all([alice, ...servers].map(async n => { await n?.destroy() }))
  })

  it('a client streaming hello while the serving peer is killed -9 gets every answer ok', async () => {
    const client = await GatewayClient.connect(await gatewayAddress(alice))
    const answers: any[] = []
    let victim: MeshProcess | undefined
    let afterKill = 0
    // Ten requests in flight at a time, until 300 answers have come after the kill.
    client.send(...Array.from({ length: 10 }, (_, i) => `{"cmd":"hello","id":${i}}`))
    let next = 10
    while (afterKill < 300) {
      const [answer] = await client.read(1)
      answers.push(answer)
      if (victim != null) afterKill++
      if (victim == null && answers.length === 200) {
        victim = servers.find(s => s.id === answer.peer)
        expect(victim).toBeDefined()
        victim?.signal('SIGKILL')
      }
      client.send(`{"cmd":"hello","id":${next++}}`)
    }
    const rest = await client.read(10)
    answers.push(...rest)
    expect(answers.map(a => a.id)).toEqual(answers.map((_, i) => i))
    expect(answers.filter(a => a.ok !== true)).toEqual([])
    expect(answers.every(a => a.reply === 'World')).toBe(true)
    const survivor = servers.find(s => s !== victim) as MeshProcess
    expect(answers.slice(-50).every(a => a.peer === survivor.id)).toBe(true)
    const [stats] = await client.ask('stats')
    expect(stats.errors).toEqual({})
    client.close()
  })
})
