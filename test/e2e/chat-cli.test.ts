import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startChatMesh } from '../utils/chat-mesh.ts'
import { MESH_BIN, type MeshProcess, sees, waitUntil } from '../utils/mesh-process.ts'
import { runMesh } from '../utils/run-mesh.ts'

/** `mesh chat send|history|tail` and `mesh dm` as scripts use them. */
describe('mesh chat and mesh dm on the command line', () => {
  let nodes: MeshProcess[] = []
  beforeAll(async () => {
    nodes = await startChatMesh(['alice', 'bob'])
    await waitUntil('alice to see bob', async () => await sees(nodes[0], nodes[1], 'alive'))
  })
  afterAll(async () => {
    await Promise.all(nodes.map(async n => { await n.destroy() }))
  })

  it('send, then history --json in the documented shape (README: mesh chat history)', async () => {
    const [alice, bob] = nodes
    const send = await runMesh(['chat', 'send', '--home', alice.home, '--room', 'cli', 'hello', 'there'])
    expect(send.code).toBe(0)
    const sentId = /^sent to cli: (\S+)\n$/.exec(send.stdout)?.[1]
    await waitUntil('bob to have it', async () => {
      const run = await runMesh(['chat', 'history', '--home', bob.home, '--room', 'cli', '--json'])
      return JSON.parse(run.stdout).messages.length === 1
    })
    const { stdout } = await runMesh(['chat', 'history', '--home', bob.home, '--room', 'cli', '--json'])
    const history = JSON.parse(stdout)
    expect(history.room).toBe('cli')
    expect(history.messages[0]).toMatchObject({ from: alice.id, nick: 'alice', text: 'hello there' })
    expect(Object.keys(history.messages[0])).toEqual(expect.arrayContaining(['id', 'from', 'nick', 'ts', 'text']))
    const plain = await runMesh(['chat', 'history', '--home', bob.home, '--room', 'cli'])
    expect(plain.stdout).toMatch(/^cli: 1 message\n\d\d:\d\d:\d\d alice: hello there\n$/)
    expect(history.messages[0].id).toBe(sentId)
    expect((await runMesh(['chat', 'send', '--home', alice.home, '--room', 'cli', '--quiet', 'shh'])).stdout).toBe('')
    const last = await runMesh(['chat', 'history', '--home', alice.home, '--room', 'cli', '--limit', '1'])
    expect(last.stdout).toMatch(/^cli: the last 1 of 2 messages\n\d\d:\d\d:\d\d alice: shh\n$/)
  })

  it('history of a room the node was not in says it joined it, and that its past is on the way', async () => {
    const run = await runMesh(['chat', 'history', '--home', nodes[1].home, '--room', 'never-before'])
    expect(run.stdout).toBe('never-before: no messages yet. This node joined the room just now; its past arrives from the members within seconds.\n')
    const again = await runMesh(['chat', 'history', '--home', nodes[1].home, '--room', 'never-before'])
    expect(again.stdout).toBe('never-before: no messages\n')
  })

  it('tail --json prints one JSON line per message until killed', async () => {
    const [alice, bob] = nodes
    const child = spawn(process.execPath, [MESH_BIN, 'chat', 'tail', '--home', bob.home, '--room', 'tailroom', '--json'])
    let out = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    try {
      // The tail joins the room; wait until alice's messages can reach bob in it.
      await waitUntil('tail to receive', async () => {
        await runMesh(['chat', 'send', '--home', alice.home, '--room', 'tailroom', 'ping'])
        return out.includes('"ping"')
      }, 20_000, 500)
      const line = JSON.parse(out.split('\n').find(l => l.includes('"ping"')) as string)
      expect(line).toMatchObject({ type: 'message', room: 'tailroom', nick: 'alice', text: 'ping' })
    } finally {
      child.kill('SIGINT')
    }
    expect(await new Promise(resolve => child.once('exit', resolve))).toBe(0)
  })

  it('dm, and the DM conversation in history', async () => {
    const [alice, bob] = nodes
    const sent = await runMesh(['dm', '--home', alice.home, 'bob', 'a', 'secret'])
    expect(sent.stdout).toBe('delivered to bob\n')
    const onBob = JSON.parse((await runMesh(['chat', 'history', '--home', bob.home, '--dm', 'alice', '--json'])).stdout)
    expect(onBob.room).toBe('@alice')
    expect(onBob.messages.map((m: any) => m.text)).toEqual(['a secret'])
    const viaRoom = JSON.parse((await runMesh(['chat', 'history', '--home', alice.home, '--room', '@bob', '--json'])).stdout)
    expect(viaRoom.messages.map((m: any) => m.text)).toEqual(['a secret'])
  })

  it('dm names the peer as every command does: full id, id suffix, nick#suffix', async () => {
    const [alice, bob] = nodes
    const names = [bob.id, bob.id.slice(-8), `…${bob.id.slice(-6)}`, `bob#${bob.id.slice(-6)}`]
    for (const name of names) {
      const run = await runMesh(['dm', '--home', alice.home, name, 'by', 'name'])
      expect(run.stdout, name).toBe(`delivered to ${name}\n`)
    }
    const onBob = JSON.parse((await runMesh(['chat', 'history', '--home', bob.home, '--dm', alice.id.slice(-8), '--json'])).stdout)
    expect(onBob.messages.filter((m: any) => m.text === 'by name')).toHaveLength(names.length)
  })

  it('misuse: one line on stderr, exit 2', async () => {
    const home = nodes[0].home
    for (const args of [
      ['chat', 'send', '--home', home, 'x'.repeat(5000)],
      ['chat', 'send', '--home', home, '--room', 'no/slash', 'hi'],
      ['chat', 'history', '--home', home, '--limit', '0']
    ]) {
      const run = await runMesh(args)
      expect(run.code, args.join(' ')).toBe(2)
      expect(run.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1)
    }
  })

  it('a peer nobody is called: one line, exit 2 (the argument names nobody)', async () => {
    const run = await runMesh(['dm', '--home', nodes[0].home, 'nobody-by-that-name', 'hi'])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/^mesh: .*nobody-by-that-name.*\n$/)
  })
})
