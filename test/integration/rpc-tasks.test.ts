import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callNode } from '../../cli/control-client.ts'
import { MeshProcess, startMesh, waitUntil } from '../utils/mesh-process.ts'
import { runMesh } from '../utils/run-mesh.ts'

/**
 * calc, text and greeter through the CLI of one of three real nodes on loopback, answered by
 * whichever peer the balancer picks or the one --peer names; errors as one named line.
 */
describe('rpc tasks through the CLI, three processes', () => {
  let nodes: MeshProcess[] = []
  let alice: MeshProcess, bob: MeshProcess, carol: MeshProcess

  beforeAll(async () => {
    nodes = await startMesh(['alice', 'bob', 'carol'])
    ;[alice, bob, carol] = nodes
    await waitUntil('every node to see the three offering calc.sum', async () => {
      for (const n of nodes) {
        const { members } = await n.peers()
        if (members.filter(m => m.state === 'alive' && m.services.includes('calc.sum')).length !== 3) return false
      }
      return true
    }, 20_000)
  })

  afterAll(async () => {
    await Promise.all(nodes.map(async n => { await n.destroy() }))
  })

  const mesh = async (node: MeshProcess, ...args: string[]) => await runMesh([...args, '--home', node.home])

  it('mesh task calc sum 10 20 30 40 --json answers 100 from a peer of the mesh', async () => {
    const run = await mesh(alice, 'task', 'calc', 'sum', '10', '20', '30', '40', '--json')
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const out = JSON.parse(run.stdout)
    expect(out).toMatchObject({ op: 'sum', result: 100 })
    expect(nodes.map(n => n.id)).toContain(out.peer)
  })

  it('--peer by nick or id runs it there', async () => {
    const byNick = JSON.parse((await mesh(alice, 'task', 'calc', 'average', '10', '20', '30', '40', '--peer', 'bob', '--json')).stdout)
    expect(byNick).toEqual({ op: 'average', result: 25, peer: bob.id })
    const byId = JSON.parse((await mesh(alice, 'task', 'calc', 'max', '--peer', carol.id, '--json', '3', '-7', '12.5')).stdout)
    expect(byId).toEqual({ op: 'max', result: 12.5, peer: carol.id })
    const min = JSON.parse((await mesh(bob, 'task', 'calc', 'min', '1e3', '-2_500', '7', '--peer', 'alice', '--json')).stdout)
    expect(min).toEqual({ op: 'min', result: -2500, peer: alice.id })
  })

  it('text tasks: words, characters, upper and lower case; plain output', async () => {
    const runs = await Promise.all([
      mesh(carol, 'task', 'text', 'count_words', 'Este', 'é', 'um', 'exemplo', 'de', 'texto'),
      mesh(carol, 'task', 'text', 'count_chars', 'olá', 'mundo', '--peer', 'alice'),
      mesh(carol, 'task', 'text', 'uppercase', 'hello', 'mesh', '--peer', 'bob'),
      mesh(carol, 'task', 'text', 'lowercase', 'HeLLo', '--json')
    ])
    expect(runs.map(r => r.stdout)).toEqual(['6\n', '9\n', 'HELLO MESH\n', expect.stringContaining('"result":"hello"')])
    expect(runs.map(r => r.code)).toEqual([0, 0, 0, 0])
    expect(runs[2].stderr).toMatch(/^from bob …\S{6}\n$/)
  })

  it('mesh call greeter.hello \'"Hello"\' prints "World" and who answered', async () => {
    const plain = await mesh(bob, 'call', 'greeter.hello', '"Hello"')
    expect(plain.stdout).toBe('"World"\n')
    expect(plain.stderr).toMatch(/^from (alice|bob|carol) …\S{6}\n$/)
    const json = JSON.parse((await mesh(bob, 'call', 'greeter.hello', '"Hello"', '--peer', 'carol', '--json')).stdout)
    expect(json).toEqual({ result: 'World', peer: carol.id })
  })

  it('errors reach the caller in plain words: one line, no class names, exit 1; --json names the error', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['call', 'nosuch.method'], /^mesh: no live peer offers nosuch\.method\n$/],
      [['call', 'greeter.goodbye', '"x"'], /^mesh: no live peer offers greeter\.goodbye\n$/],
      [['call', 'greeter.goodbye', '"x"', '--peer', 'bob'], /^mesh: service greeter has no method goodbye/],
      [['call', 'nosuch.method', '--peer', 'bob'], /^mesh: no service nosuch on this node/],
      [['call', 'calc.sum', '["a", 1]'], /^mesh: calc\.sum: item 0 is a string, not a finite number/],
      [['call', 'calc.sum', '{"numbers":[1]}', '--peer', 'carol'], /^mesh: calc\.sum takes a list of numbers/],
      [['call', 'text.uppercase', '42'], /^mesh: text\.uppercase takes a string, got a number/],
      [['call', 'greeter.hello', '"Hi"'], /^mesh: greeter\.hello answers "Hello" only, got "Hi"/],
      // The average of nothing: the service refuses it when a script calls it directly.
      [['call', 'calc.average', '[]'], /^mesh: calc\.average /]
    ]
    const runs = await Promise.all(cases.map(async ([args]) => await mesh(alice, ...args)))
    runs.forEach((run, i) => {
      expect(run.stderr, cases[i][0].join(' ')).toMatch(cases[i][1])
      expect(run.stderr).not.toMatch(/[A-Z]\w+Error/)
      expect(run.stderr.trim().split('\n')).toHaveLength(1)
      expect(run.stdout).toBe('')
      expect(run.code, cases[i][0].join(' ')).toBe(1)
    })
    const json = await mesh(alice, 'call', 'greeter.hello', '"Hi"', '--json')
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stdout)).toEqual({ error: 'UnknownGreetingError', message: 'greeter.hello answers "Hello" only, got "Hi"' })
  })

  it('misuse is exit 2 with one line', async () => {
    const runs = await Promise.all([
      mesh(alice, 'task', 'calc', 'sum', '1', 'x'),
      mesh(alice, 'task', 'calc', 'avg', '1'),
      mesh(alice, 'task', 'text', 'reverse', 'abc'),
      mesh(alice, 'call', 'greeter'),
      mesh(alice, 'call', 'greeter.hello', 'Hello'),
      mesh(alice, 'task', 'calc', 'sum', '1', '--peer', 'nobody'),
      // Missing input is caught before anything is sent.
      mesh(alice, 'task', 'calc', 'sum'),
      mesh(alice, 'task', 'calc', 'average'),
      mesh(alice, 'task', 'text', 'uppercase')
    ])
    expect(runs[5].stderr).toMatch(/^mesh: no peer called nobody/)
    expect(runs[6].stderr).toMatch(/^mesh: calc sum needs at least one number/)
    for (const run of runs) {
      expect(run.code).toBe(2)
      expect(run.stderr.trim().split('\n')).toHaveLength(1)
    }
  })

  it('tasks submitted from a home are stored there: mesh task results', async () => {
    await mesh(carol, 'task', 'calc', 'sum', '1', '2', '--peer', 'bob')
    const { results } = JSON.parse((await mesh(carol, 'task', 'results', '--json')).stdout)
    expect(results[0]).toMatchObject({ kind: 'calc', op: 'sum', input: [1, 2], ok: true, result: 3, peer: bob.id, nick: 'bob' })
    expect(results.some((r: any) => r.kind === 'text' && r.op === 'count_words' && r.result === 6)).toBe(true)
    const table = await mesh(carol, 'task', 'results', '--limit', '2')
    expect(table.stdout.trim().split('\n')).toHaveLength(3)
  })

  it('mesh stats counts the requests each node served, with latencies', async () => {
    await mesh(alice, 'task', 'calc', 'sum', '5', '--peer', 'carol')
    const stats = await callNode(carol.home, 'stats')
    const served = stats.metrics.mesh_rpc_requests_total
    expect(served['method=calc.sum,outcome=ok']).toBeGreaterThanOrEqual(1)
    expect(stats.metrics.mesh_rpc_request_latency_ms['method=calc.sum,quantile=p50']).toBeGreaterThan(0)
  })

  it('without a node in --home: exit 1, "no node runs"', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'mesh-empty-'))
    try {
      const run = await runMesh(['task', 'calc', 'sum', '1', '--home', empty])
      expect(run.code).toBe(1)
      expect(run.stderr).toMatch(/^mesh: no node runs in /)
      const call = await runMesh(['call', 'greeter.hello', '"Hello"', '--home', empty])
      expect(call.code).toBe(1)
    } finally {
      await rm(empty, { recursive: true, force: true })
    }
  })

  it('mesh task results reads the home when its node has stopped', async () => {
    const dave = await MeshProcess.start({ name: 'dave', args: ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0'], bootstrap: [alice.bootstrapAddr] })
    try {
      await waitUntil('dave to see bob offer calc.sum', async () => (await dave.peers()).members.some(m => m.nick === 'bob' && m.state === 'alive' && m.services.includes('calc.sum')))
      expect((await mesh(dave, 'task', 'calc', 'sum', '40', '2', '--peer', 'bob')).code).toBe(0)
      await mesh(dave, 'call', 'greeter.hello', '"Hi"')
      const running = JSON.parse((await mesh(dave, 'task', 'results', '--json')).stdout).results
      dave.signal('SIGTERM')
      await dave.waitForExit()
      const stopped = await mesh(dave, 'task', 'results', '--json')
      expect(stopped.code).toBe(0)
      expect(JSON.parse(stopped.stdout).results).toEqual(running)
      expect(running[0]).toMatchObject({ kind: 'calc', op: 'sum', result: 42, nick: 'bob' })
      const table = await mesh(dave, 'task', 'results')
      expect(table.stdout).toMatch(/calc sum +\[40,2\] +42 +bob/)
    } finally {
      await dave.destroy()
    }
  })
})
