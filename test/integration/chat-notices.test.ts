import { afterEach, describe, expect, it } from 'vitest'
import { callNode, streamFromNode } from '../../cli/control-client.ts'
import { startChatMesh } from '../utils/chat-mesh.ts'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MeshProcess, sees, waitUntil } from '../utils/mesh-process.ts'
import { LOOPBACK_ARGS } from '../utils/chat-mesh.ts'
import { runMesh } from '../utils/run-mesh.ts'

/**
 * Follows `node`'s chat tail and collects its notices; resolves once the tail is subscribed
 * (notices are live only, so nobody may come or go before that).
 */
async function tailNotices (node: MeshProcess): Promise<{ notices: string[], stop: () => Promise<void> }> {
  const controller = new AbortController()
  const notices: string[] = []
  const said: string[] = []
  const reading = (async () => {
    for await (const event of streamFromNode<any>(node.home, 'chat.tail', {}, controller.signal)) {
      if (event.type === 'notice') notices.push(event.text)
      else if (typeof event.text === 'string') said.push(event.text)
    }
  })().catch(() => {})
  await waitUntil('the tail to be subscribed', async () => {
    await callNode(node.home, 'chat.send', { room: 'lobby', text: 'tail ready?' })
    return said.includes('tail ready?')
  }, 15_000, 300)
  return { notices, stop: async () => { controller.abort(); await reading } }
}

/** Join/leave notices tell a clean leave from a failure. */
describe('chat notices from membership', () => {
  let nodes: MeshProcess[] = []
  afterEach(async () => {
    await Promise.all(nodes.map(async n => { await n.destroy() }))
    nodes = []
  })

  it('"bob left" for a clean leave, "carol lost: …" for a crash', async () => {
    nodes = await startChatMesh(['alice', 'bob', 'carol'])
    const [alice, bob, carol] = nodes
    await waitUntil('alice to see both', async () => await sees(alice, bob, 'alive') && await sees(alice, carol, 'alive'))
    const { notices, stop } = await tailNotices(alice)
    try {
      bob.signal('SIGTERM')
      await waitUntil('the leave notice', async () => notices.includes('bob left'), 15_000, 50)
      carol.signal('SIGKILL')
      await waitUntil('the failure notice', async () => notices.some(n => n.startsWith('carol lost: ')), 30_000, 50)
      expect(notices.find(n => n.startsWith('carol'))).toMatch(/^carol lost: (no heartbeat|unreachable)$/)
      expect(notices.some(n => n.startsWith('bob lost'))).toBe(false)
    } finally {
      await stop()
    }
  })

  it('a temporary counting node comes and goes without a notice; a real node still gets one', async () => {
    nodes = await startChatMesh(['alice'])
    const [alice] = nodes
    const { notices, stop } = await tailNotices(alice)
    const home = await mkdtemp(join(tmpdir(), 'mesh-count-home-'))
    try {
      // No node runs in `home`: the command joins with a temporary node, counts, and leaves.
      const run = await runMesh(['primes', 'count', '2', '2000000', '--home', home, '--json', '--no-mdns', '--workers', '1',
        '--bootstrap', alice.bootstrapAddr], { timeoutMs: 60_000 })
      expect(run.code, run.stderr).toBe(0)
      expect(JSON.parse(run.stdout).count).toBe(148933)
      const temporary = (await alice.peers()).members.find(m => m.nick.startsWith('count-'))
      expect(temporary?.roles).toContain('transient')
      await waitUntil('alice to see it leave', async () => (await alice.peers()).members.some(m => m.nick.startsWith('count-') && m.state === 'left'))
      // A node that stays is news: its notice proves the tail was hearing notices all along.
      nodes.push(await MeshProcess.start({ name: 'bob', args: LOOPBACK_ARGS, bootstrap: [alice.bootstrapAddr] }))
      await waitUntil('the notice of bob', async () => notices.includes('bob joined'), 15_000, 50)
      expect(notices.filter(n => n.includes('count-'))).toEqual([])
    } finally {
      await stop()
      await rm(home, { recursive: true, force: true })
    }
  })
})
