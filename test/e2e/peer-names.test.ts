import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMesh, waitUntil, type MeshProcess } from '../utils/mesh-process.ts'
import { runMesh, type MeshRun } from '../utils/run-mesh.ts'

/**
 * One way to name a peer on the command line: `mesh call --peer`, `mesh task --peer` and
 * `mesh dm` accept the same names (a nick, nick#suffix, …suffix, a bare suffix, the full id)
 * and fail the same way, in plain words, for a name that matches no peer or two.
 */
describe('naming a peer: mesh call --peer, mesh task --peer, mesh dm', () => {
  let alice: MeshProcess
  let bob: MeshProcess
  /** A second node called bob: "bob" alone is ambiguous. */
  let twin: MeshProcess

  beforeAll(async () => {
    [alice, bob, twin] = await startMesh(['alice', 'bob', 'bob'], ['--workers', '1'])
    for (const node of [alice, bob, twin]) {
      await waitUntil(`${node.name} to see the other two alive`, async () => {
        const { members } = await node.peers()
        return members.filter(m => m.state === 'alive').length === 3
      })
    }
  })

  afterAll(async () => {
    await Promise.all([alice, bob, twin].map(async n => { await n?.destroy() }))
  })

  const mesh = async (from: MeshProcess, ...args: string[]): Promise<MeshRun> => await runMesh([...args, '--home', from.home])
  const suffix = (node: MeshProcess, length = 6): string => node.id.slice(-length)
  /** Every form of alice's name, as bob would type it. */
  const namesOfAlice = (): string[] => ['alice', `alice#${suffix(alice)}`, `…${suffix(alice)}`, suffix(alice, 9), alice.id]

  it('mesh call --peer reaches alice by each of her names', async () => {
    const names = namesOfAlice()
    const runs = await Promise.all(names.map(async name => await mesh(bob, 'call', 'greeter.hello', '"Hello"', '--peer', name, '--json')))
    runs.forEach((run, i) => {
      expect(run.stderr, names[i]).toBe('')
      expect(run.code, names[i]).toBe(0)
      expect(JSON.parse(run.stdout), names[i]).toEqual({ result: 'World', peer: alice.id })
    })
  })

  it('mesh dm reaches alice by each of her names', async () => {
    const names = namesOfAlice()
    for (const [i, name] of names.entries()) {
      const run = await mesh(bob, 'dm', name, `hi ${i}`)
      expect(run.stderr, name).toBe('')
      expect(run.code, name).toBe(0)
      expect(run.stdout, name).toBe(`delivered to ${name}\n`)
    }
    const history = JSON.parse((await mesh(alice, 'chat', 'history', '--dm', bob.id, '--json')).stdout)
    expect(history.messages.map((m: any) => m.text).sort()).toEqual(names.map((_, i) => `hi ${i}`))
  })

  it('nick#suffix tells two peers called bob apart', async () => {
    const [call, task, dm] = await Promise.all([
      mesh(alice, 'call', 'greeter.hello', '"Hello"', '--peer', `bob#${suffix(twin)}`, '--json'),
      mesh(alice, 'task', 'calc', 'sum', '1', '2', '--peer', `bob#${suffix(bob)}`, '--json'),
      mesh(alice, 'dm', `bob#${suffix(twin)}`, 'for the twin')
    ])
    expect([call.stderr, task.stderr, dm.stderr]).toEqual(['', '', ''])
    expect(JSON.parse(call.stdout).peer).toBe(twin.id)
    expect(JSON.parse(task.stdout)).toEqual({ op: 'sum', result: 3, peer: bob.id })
    expect(dm.stdout).toBe(`delivered to bob#${suffix(twin)}\n`)
    const onTwin = JSON.parse((await mesh(twin, 'chat', 'history', '--dm', alice.id, '--json')).stdout)
    expect(onTwin.messages.map((m: any) => m.text)).toEqual(['for the twin'])
  })

  it('a name that fits two peers: exit 2, one line listing both as nick#suffix', async () => {
    const runs = await Promise.all([
      mesh(alice, 'call', 'greeter.hello', '"Hello"', '--peer', 'bob'),
      mesh(alice, 'task', 'calc', 'sum', '1', '--peer', 'bob'),
      mesh(alice, 'dm', 'bob', 'which one?')
    ])
    for (const run of runs) {
      expect(run.code).toBe(2)
      expect(run.stdout).toBe('')
      expect(run.stderr.trim().split('\n')).toHaveLength(1)
      expect(run.stderr).not.toMatch(/^mesh: \w+Error: /)
      expect(run.stderr).toContain(`bob#${suffix(bob)}`)
      expect(run.stderr).toContain(`bob#${suffix(twin)}`)
    }
  })

  it('a name that fits no peer: exit 2, one line in plain words', async () => {
    const runs = await Promise.all([
      mesh(alice, 'call', 'greeter.hello', '"Hello"', '--peer', 'carol'),
      mesh(alice, 'task', 'text', 'uppercase', 'hi', '--peer', 'carol'),
      mesh(alice, 'dm', 'carol', 'anyone?')
    ])
    for (const run of runs) {
      expect(run.code).toBe(2)
      expect(run.stdout).toBe('')
      expect(run.stderr).toMatch(/^mesh: .*carol.*\n$/)
      expect(run.stderr).not.toMatch(/^mesh: \w+Error: /)
    }
  })
})
