import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMeshNode, type MeshNode } from '../../node/mesh-node.ts'
import { MAX_RPC_FRAME_BYTES } from '../../protocols/rpc/index.ts'
import { waitUntil } from '../utils/mesh-process.ts'

/**
 * The rpc API as the scheduler uses it, on two nodes in this process over loopback TCP:
 * streamed answers, early stop (cancels the handler), answers too big for a frame,
 * hundreds of calls in flight, and calls the balancer keeps local.
 */
describe('rpc API between two in-process nodes', () => {
  const homes: string[] = []
  let a: MeshNode
  let b: MeshNode
  const aborted: string[] = []

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) homes.push(await mkdtemp(join(tmpdir(), 'mesh-rpc-stream-')))
    const base = { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, heartbeatMs: 200 }
    b = await createMeshNode({ ...base, home: homes[1], nick: 'b' })
    b.rpc.register('seq', {
      // A streamed answer: n numbers, one frame each.
      count: async function * (args: unknown, ctx) {
        const n = (args as { n: number }).n
        for (let i = 0; i < n; i++) {
          if (ctx.signal.aborted) { aborted.push('count'); return }
          yield i
          await new Promise(resolve => setTimeout(resolve, 1))
        }
      },
      huge: () => 'x'.repeat(MAX_RPC_FRAME_BYTES + 10),
      slow: async (_args: unknown, ctx) => await new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, 5000, 'done')
        ctx.signal.addEventListener('abort', () => { clearTimeout(timer); aborted.push('slow'); reject(new Error('aborted')) })
      })
    }, { idempotent: true })
    a = await createMeshNode({ ...base, home: homes[0], nick: 'a', bootstrap: [b.addrs()[0]] })
    await waitUntil('a to see b offering seq.count', async () => a.membership.member(b.peerId)?.services.includes('seq.count') === true, 20_000)
  })

  afterAll(async () => {
    await a?.shutdown()
    await b?.shutdown()
    await Promise.all(homes.map(async h => { await rm(h, { recursive: true, force: true }) }))
  })

  it('streams a long answer item by item, and says who gave it', async () => {
    const items: number[] = []
    let from = ''
    for await (const i of a.rpc.stream<number>('seq', 'count', { n: 200 }, { onPeer: p => { from = p } })) items.push(i)
    expect(items).toEqual(Array.from({ length: 200 }, (_, i) => i))
    expect(from).toBe(b.peerId)
  })

  it('stopping early cancels the handler on the peer', async () => {
    for await (const i of a.rpc.stream<number>('seq', 'count', { n: 100_000 })) {
      if (i === 5) break
    }
    await waitUntil('the handler to see its signal aborted', async () => aborted.includes('count'), 10_000)
  })

  it('the caller\'s signal cancels a call on the peer', async () => {
    const controller = new AbortController()
    const call = a.rpc.call('seq', 'slow', null, { signal: controller.signal })
    setTimeout(() => { controller.abort() }, 200)
    await expect(call).rejects.toMatchObject({ name: 'RpcCancelledError' })
    await waitUntil('the slow handler to be aborted', async () => aborted.includes('slow'), 10_000)
  })

  it('an answer too big for a frame is a named error, not a broken stream', async () => {
    await expect(a.rpc.call('seq', 'huge', null)).rejects.toMatchObject({ name: 'ResultTooLargeError' })
    expect((await a.rpc.call('rpc', 'ping', 'still fine', { peer: b.peerId })).result).toBe('still fine')
  })

  it('hundreds of calls in flight to one peer all answer (spread over pooled streams)', async () => {
    const replies = await Promise.all(Array.from({ length: 400 }, async (_, i) =>
      await a.rpc.call('rpc', 'ping', i, { peer: b.peerId })))
    expect(replies.map(r => r.result)).toEqual(Array.from({ length: 400 }, (_, i) => i))
  })

  it('the balancer keeps a call local on a tie, and goes remote for what only the peer has', async () => {
    const local = await a.rpc.call('calc', 'sum', [1, 2, 3])
    expect(local).toEqual({ result: 6, peer: a.peerId, attempts: 1 })
    expect((await a.rpc.call('seq', 'count', { n: 0 })).peer).toBe(b.peerId)
  })
})
