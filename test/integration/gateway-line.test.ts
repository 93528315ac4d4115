import { readFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callNode } from '../../cli/control-client.ts'
import { GatewayClient, gatewayAddress } from '../utils/gateway-client.ts'
import { MeshProcess, waitUntil } from '../utils/mesh-process.ts'
import { runMesh } from '../utils/run-mesh.ts'

const LOOPBACK = ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0']
const PRIMES_TO_30 = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]

/** Resident memory of a process, in MB. */
function rssMb (pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find(l => l.startsWith('VmRSS:')) ?? ''
  return Number(/(\d+)/.exec(line)?.[1] ?? 0) / 1024
}

/**
 * The line protocol against a real 2-node mesh: alice is the gateway (default limits), bob
 * a second peer that shares the work.
 */
describe('gateway line protocol on a 2-node mesh', () => {
  let alice: MeshProcess
  let bob: MeshProcess
  let address: { host: string, port: number }
  let ids: string[]

  beforeAll(async () => {
    alice = await MeshProcess.start({ name: 'alice', args: [...LOOPBACK, '--gateway', '0'] })
    bob = await MeshProcess.start({ name: 'bob', args: LOOPBACK, bootstrap: [alice.bootstrapAddr] })
    ids = [alice.id, bob.id]
    await waitUntil('alice to see bob serving primes.test', async () => {
      const { members } = await alice.peers()
      return members.some(m => m.id === bob.id && m.state === 'alive' && m.services.includes('primes.test'))
    }, 20_000)
    address = await gatewayAddress(alice)
    expect(address.host).toBe('127.0.0.1')
  })

  afterAll(async () => {
    await Promise.all([alice, bob].map(async n => { await n?.destroy() }))
  })

  it('answers every command, as text and as JSON, with the peer that did the work', async () => {
    const client = await GatewayClient.connect(address)
    const [prime, range, count, hello, echo, calc, text, peers, help, stats] = await client.ask(
      'prime 104729', 'range 1 30', 'count 1 100000', 'hello', 'echo hi there', 'calc sum 1 2 3', 'text uppercase abc', 'peers', 'help', 'stats')
    expect(prime).toMatchObject({ ok: true, n: '104729', is_prime: true })
    expect(range).toMatchObject({ ok: true, count: 10, primes: PRIMES_TO_30 })
    expect(count).toMatchObject({ ok: true, from: 1, to: 100000, count: 9592 })
    expect(hello).toMatchObject({ ok: true, reply: 'World' })
    expect(echo).toEqual({ ok: true, echo: 'hi there' })
    expect(calc).toMatchObject({ ok: true, op: 'sum', result: 6 })
    expect(text).toMatchObject({ ok: true, op: 'uppercase', result: 'ABC' })
    for (const forwarded of [prime, range, count, hello, calc, text]) expect(ids).toContain(forwarded.peer)
    expect(peers.peers.map((p: any) => p.id).sort()).toEqual([...ids].sort())
    expect(peers.peers.find((p: any) => p.id === alice.id).roles).toEqual([`gateway=127.0.0.1:${address.port}`])
    expect(Object.keys(help.commands)).toEqual(['prime', 'range', 'count', 'stats', 'hello', 'echo', 'calc', 'text', 'peers', 'help'])
    expect(stats).toMatchObject({ ok: true, connections_open: 1 })
    expect(stats.requests.prime).toBeGreaterThanOrEqual(1)

    const json = await client.ask(
      '{"cmd":"prime","n":104729,"id":1}',
      '{"cmd":"range","from":1,"to":30,"id":2}',
      '{"cmd":"count","from":1,"to":100000,"id":7}',
      '{"cmd":"hello","id":"h"}',
      '{"cmd":"echo","text":"hi","id":5}',
      '{"cmd":"calc","op":"average","numbers":[1,2,3],"id":6}',
      '{"cmd":"text","op":"count_words","text":"a b c","id":8}',
      '{"cmd":"peers","id":9}',
      '{"cmd":"help","id":10}',
      '{"cmd":"stats","id":11}')
    expect(json.map(a => a.id)).toEqual([1, 2, 7, 'h', 5, 6, 8, 9, 10, 11])
    expect(json.every(a => a.ok === true)).toBe(true)
    expect(json[0]).toMatchObject({ n: '104729', is_prime: true })
    expect(json[1]).toMatchObject({ count: 10, primes: PRIMES_TO_30 })
    expect(json[2]).toMatchObject({ count: 9592 })
    expect(json[3]).toMatchObject({ reply: 'World' })
    expect(json[4]).toMatchObject({ echo: 'hi' })
    expect(json[5]).toMatchObject({ result: 2 })
    expect(json[6]).toMatchObject({ result: 3 })
    client.close()
  })

  it('counts up to 2^20 are answered by the gateway itself, exactly; one past the bound goes to a peer\'s worker', async () => {
    const shardsServed = async (): Promise<number> => {
      let n = 0
      for (const node of [alice, bob]) n += (await callNode(node.home, 'stats')).metrics.mesh_primes_shards_served_total?.['outcome=ok'] ?? 0
      return n
    }
    const client = await GatewayClient.connect(address)
    const before = await shardsServed()
    const small = await client.ask('count 0 1048576', 'count 1048573 1048576', '{"cmd":"count","from":2,"to":2}', 'count 1 1')
    expect(small.map(a => a.count)).toEqual([82025, 1, 1, 0])
    for (const a of small) expect(a).toMatchObject({ ok: true, peer: alice.id })
    expect(await shardsServed()).toBe(before)
    // 1048583 is the first prime past 2^20.
    const [above] = await client.ask('count 1 1048583')
    expect(above).toMatchObject({ ok: true, from: 1, to: 1048583, count: 82026 })
    expect(ids).toContain(above.peer)
    expect(await shardsServed()).toBe(before + 1)
    client.close()
  })

  it('a wide count becomes a distributed job over both peers; its answer carries shards and peers', async () => {
    const client = await GatewayClient.connect(address)
    const [answer] = await client.ask('count 1 2e9')
    expect(answer).toMatchObject({ ok: true, from: 1, to: 2e9, count: 98222287 })
    expect(answer.shards).toBeGreaterThan(1)
    expect(answer.peers.map((p: any) => p.id).sort()).toEqual([...ids].sort())
    // Counted the cheaper way for its width, as `mesh primes count` would: pi(2e9) - pi(0).
    const { jobs } = await callNode(alice.home, 'jobs.list')
    expect(jobs.find((j: any) => j.id === answer.job)?.kind).toBe('primes.pi-split')
    client.close()
  })

  it('pipelined answers come back in order', async () => {
    const client = await GatewayClient.connect(address)
    const lines: string[] = []
    for (let i = 0; i < 300; i++) {
      lines.push(i % 3 === 0 ? `{"cmd":"echo","text":"e${i}","id":${i}}` : i % 3 === 1 ? `{"cmd":"prime","n":${i},"id":${i}}` : `{"cmd":"count","from":1,"to":${i * 1000},"id":${i}}`)
    }
    const answers = await client.ask(...lines)
    expect(answers.map(a => a.id)).toEqual(lines.map((_, i) => i))
    expect(answers.every(a => a.ok === true)).toBe(true)
    client.close()
  })

  it('bad input gets an error answer and the connection stays open', async () => {
    const client = await GatewayClient.connect(address)
    client.send(Buffer.alloc(200_000, 'x'), '', 'echo after a long line')
    client.send(Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80, 10]))
    client.send(Buffer.from([0x1b, 0x5b, 0x32, 0x4a, 0x07, 10]))
    client.send('count 1 18446744073709551616', 'range 100 1', 'range 1 1e7', 'prime -3', 'frobnicate', '{"cmd":"range","from":"x","to":2,"id":3}', '{not json', '')
    const answers = await client.read(11)
    expect(answers[0]).toEqual({ ok: false, error: 'line longer than 65536 bytes; skipped' })
    expect(answers[1]).toEqual({ ok: true, echo: 'after a long line' })
    expect(answers[2]).toEqual({ ok: false, error: 'the line is not valid UTF-8' })
    expect(answers[3].ok).toBe(false)
    expect(answers[3].error).toMatch(/^unknown command "\\u001b\[2J\\u0007"/)
    expect(answers[4]).toEqual({ ok: false, error: 'to must be below 2^64' })
    expect(answers[5]).toEqual({ ok: false, error: 'from must not be greater than to' })
    expect(answers[6]).toEqual({ ok: false, error: '[1, 10000000] holds more than 100000 primes: use count, or GET /api/primes/range page by page' })
    expect(answers[7].ok).toBe(false)
    expect(answers[8].error).toMatch(/^unknown command "frobnicate"/)
    expect(answers[9]).toMatchObject({ ok: false, id: 3 })
    expect(answers[10]).toMatchObject({ ok: false, error: 'not valid JSON; send {"cmd":…} or a text command' })
    expect(await client.read(1)).toEqual([{ ok: false, error: 'empty line; try help' }])
    expect(await client.ask('prime 97')).toMatchObject([{ ok: true, is_prime: true }])
    client.close()
  })

  it('a client that never reads is no longer read from, and the gateway\'s memory stays bounded', async () => {
    const before = rssMb(alice.pid)
    const socket = connect(address)
    await new Promise(resolve => socket.once('connect', resolve))
    socket.on('error', () => {})
    const chunk = `echo ${'y'.repeat(60_000)}\n`.repeat(16)
    let sent = 0
    let stalled = false
    // Write as fast as the gateway takes it; it stops taking when its answers pile up unread.
    while (sent < 2 * 1024 ** 3) {
      sent += chunk.length
      if (socket.write(chunk)) continue
      const drained = await Promise.race([
        new Promise<boolean>(resolve => socket.once('drain', () => { resolve(true) })),
        new Promise<boolean>(resolve => setTimeout(() => { resolve(false) }, 3000))
      ])
      if (!drained) { stalled = true; break }
    }
    expect(stalled).toBe(true)
    // What the gateway took: the kernel's buffers both ways, a bounded backlog and its answers.
    expect(sent).toBeLessThan(100 * 1024 * 1024)
    expect(rssMb(alice.pid) - before).toBeLessThan(100)
    socket.destroy()
    const client = await GatewayClient.connect(address)
    expect(await client.ask('echo fine')).toEqual([{ ok: true, echo: 'fine' }])
    client.close()
  })

  it('abrupt resets in the middle of pipelined work leak nothing', async () => {
    const sockets: Socket[] = []
    for (let i = 0; i < 50; i++) {
      const s = connect(address)
      s.on('error', () => {})
      sockets.push(s)
      await new Promise(resolve => s.once('connect', resolve))
      s.write('count 1 5e7\nhello\nrange 1 1e6\nprime 104729\n'.repeat(5) + 'echo half a li')
    }
    await new Promise(resolve => setTimeout(resolve, 50))
    for (const s of sockets) s.resetAndDestroy()
    const client = await GatewayClient.connect(address)
    let seen = ''
    await waitUntil('only our connection open, and no rpc left in flight', async () => {
      const [stats] = await client.ask('stats')
      const node = await callNode(alice.home, 'stats')
      seen = JSON.stringify([stats.connections_open, node.metrics.mesh_rpc_requests_in_flight])
      return stats.connections_open === 1 && (node.metrics.mesh_rpc_requests_in_flight?.total ?? 0) === 0
    }, 30_000, 200).catch(err => { throw new Error(`${err.message}: ${seen}`) })
    expect(await client.ask('count 1 100000')).toMatchObject([{ ok: true, count: 9592 }])
    client.close()
  })

  it('2,000 idle connections: the default cap of 1024 holds, the excess is told so, the rest are served', async () => {
    const sockets: Socket[] = []
    const firstLines: Array<Promise<string>> = []
    for (let i = 0; i < 2000; i++) {
      const s = connect(address)
      s.setEncoding('utf8')
      s.on('error', () => {})
      sockets.push(s)
      firstLines.push(new Promise(resolve => {
        let text = ''
        s.on('data', (d: string) => { text += d })
        s.on('close', () => { resolve(text) })
      }))
      if (i % 100 === 99) await new Promise(resolve => setTimeout(resolve, 10))
    }
    await waitUntil('1024 held and 976 refused', async () => sockets.filter(s => s.destroyed).length >= 976, 30_000, 100)
    const refused = await Promise.all(firstLines.filter((_, i) => sockets[i].destroyed))
    expect(refused.length).toBe(976)
    for (const text of refused) expect(text).toBe('{"ok":false,"error":"too many connections (1024); try again later"}\n')
    // A held one is served.
    const held = sockets.find(s => !s.destroyed) as Socket
    const answer = new Promise<string>(resolve => held.once('data', (d: string) => { resolve(d) }))
    held.write('echo held\n')
    expect(await answer).toBe('{"ok":true,"echo":"held"}\n')
    for (const s of sockets) s.destroy()
    const client = await GatewayClient.connect(address)
    await waitUntil('the places freed', async () => (await client.ask('stats'))[0].connections_open === 1, 20_000, 100)
    expect((await client.ask('stats'))[0].errors.connection_cap).toBe(976)
    client.close()
  })

  it('mesh peers shows the gateway role, and mesh stats its counters', async () => {
    const peers = await runMesh(['peers', '--json', '--home', bob.home])
    const members = JSON.parse(peers.stdout).members
    expect(members.find((m: any) => m.id === alice.id).roles).toEqual([`gateway=127.0.0.1:${address.port}`])
    const table = (await runMesh(['peers', '--home', bob.home])).stdout
    expect(table.split('\n')[0]).toMatch(/ROLES$/)
    expect(table.split('\n').find(l => l.startsWith('alice'))).toMatch(new RegExp(`gateway=127\\.0\\.0\\.1:${address.port}$`))
    const stats = JSON.parse((await runMesh(['stats', '--json', '--home', alice.home])).stdout)
    expect(stats.metrics.mesh_gateway_requests_total['cmd=prime']).toBeGreaterThan(0)
    expect(stats.metrics.mesh_gateway_connections_total.total).toBeGreaterThan(2000)
    expect(Object.keys(stats.metrics.mesh_gateway_served_total).sort()).toEqual(ids.map(id => `peer=${id}`).sort())
  })
})
