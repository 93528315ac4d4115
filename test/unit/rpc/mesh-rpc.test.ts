import { EventEmitter } from 'node:events'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Connection, PeerId, StreamHandler } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { streamPair } from '@libp2p/utils'
import { afterEach, describe, expect, it } from 'vitest'
import type { Member, MemberTransition } from '../../../node/membership/member.ts'
import { MeshMetrics } from '../../../node/metrics/metrics.ts'
import { MeshRpc, type RpcLibp2p } from '../../../node/rpc/mesh-rpc.ts'
import { callOptionsFrom, nickOf } from '../../../node/rpc/rpc-control.ts'

/**
 * MeshRpc nodes in one process: each gets the slice of libp2p the rpc uses, backed by a
 * network of in-memory stream pairs (the @libp2p/utils mock muxer), and a hand-made member
 * list with membership events. No libp2p node, no sockets.
 */
interface TestNode {
  id: string
  nick: string
  rpc: MeshRpc
  events: EventEmitter
  others: Member[]
  calls: { handle: number, unhandle: number }
  metrics: MeshMetrics
}

const handlers = new Map<string, StreamHandler>()
const running: MeshRpc[] = []

afterEach(async () => {
  await Promise.all(running.splice(0).map(async rpc => { await rpc.stop() }))
  handlers.clear()
})

function member (id: string, nick: string, services: readonly string[] = ['rpc.ping']): Member {
  return {
    id, nick, incarnation: 1, seq: 1, workers: { total: 2, free: 2 }, queue: 0, load: 0,
    services: [...services], roles: [], version: '0.1.0', addrs: [], state: 'alive', lastSeenAt: 0, stateSince: 0
  }
}

function fakeLibp2p (peerId: PeerId, calls: TestNode['calls']): RpcLibp2p {
  const libp2p = {
    peerId,
    handle: async (_protocol: string, handler: StreamHandler) => { calls.handle++; handlers.set(peerId.toString(), handler) },
    unhandle: async () => { calls.unhandle++; handlers.delete(peerId.toString()) },
    dialProtocol: async (target: PeerId) => {
      const handler = handlers.get(target.toString())
      if (handler == null) throw new Error(`${target.toString()} does not speak the protocol`)
      const [outbound, inbound] = await streamPair()
      void handler(inbound, { remotePeer: peerId } as unknown as Connection)
      return outbound
    }
  }
  return libp2p as unknown as RpcLibp2p
}

async function node (nick: string): Promise<TestNode> {
  const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const id = peerId.toString()
  const calls = { handle: 0, unhandle: 0 }
  const events = new EventEmitter()
  const services = new Set<string>()
  const others: Member[] = []
  const metrics = new MeshMetrics()
  const rpc = new MeshRpc({
    libp2p: fakeLibp2p(peerId, calls),
    metrics,
    selfMember: () => member(id, nick, [...services]),
    members: () => others,
    memberEvents: events,
    services
  })
  running.push(rpc)
  return { id, nick, rpc, events, others, calls, metrics }
}

/** Each node learns of the others as alive members offering `services`. */
function meet (nodes: TestNode[], services: readonly string[] = ['rpc.ping']): void {
  for (const n of nodes) {
    for (const o of nodes) if (o !== n) n.others.push(member(o.id, o.nick, services))
  }
}

describe('MeshRpc: start and stop', () => {
  it('start twice is harmless, stop undoes start, and start after stop serves again', { timeout: 30_000 }, async () => {
    const alice = await node('alice')
    const bob = await node('bob')
    meet([alice, bob])
    await alice.rpc.start()
    await bob.rpc.start()
    await bob.rpc.start()
    expect(bob.calls.handle).toBe(1)
    expect(bob.events.listenerCount('member:dead')).toBe(1)
    expect(bob.events.listenerCount('member:leave')).toBe(1)
    expect(await alice.rpc.call('rpc', 'ping', 'one', { peer: bob.id })).toMatchObject({ result: 'one', peer: bob.id })

    await bob.rpc.stop()
    await bob.rpc.stop()
    expect(bob.calls.unhandle).toBe(1)
    expect(bob.events.listenerCount('member:dead')).toBe(0)
    expect(bob.events.listenerCount('member:leave')).toBe(0)
    // Stopped: bob closed its streams and refuses new ones, so alice's call fails over at
    // once (connection lost, no stream) instead of waiting out its deadline.
    const refused = await alice.rpc.call('rpc', 'ping', 'two', { peer: bob.id, deadlineMs: 5000 }).catch(err => err)
    expect(refused.name).toBe('AllAttemptsFailedError')
    expect(refused.attempts.map((a: any) => a.error.name)).not.toContain('DeadlineExceededError')

    await bob.rpc.start()
    expect(bob.calls.handle).toBe(2)
    expect(bob.events.listenerCount('member:dead')).toBe(1)
    expect(await alice.rpc.call('rpc', 'ping', 'three', { peer: bob.id })).toMatchObject({ result: 'three', peer: bob.id })
    // And bob's own client works again after its restart, both remotely and in-process.
    expect(await bob.rpc.call('rpc', 'ping', 'four', { peer: alice.id })).toMatchObject({ result: 'four', peer: alice.id })
    expect(await bob.rpc.call('rpc', 'ping', 'five', { peer: bob.id })).toMatchObject({ result: 'five', peer: bob.id })
  })

  it('a member declared dead has its streams closed: a call in flight there fails at once', async () => {
    const alice = await node('alice')
    const bob = await node('bob')
    bob.rpc.register('slow', { wait: async (_args, ctx) => await new Promise((_resolve, reject) => { ctx.signal.addEventListener('abort', () => { reject(ctx.signal.reason) }) }) })
    meet([alice, bob], ['rpc.ping', 'slow.wait'])
    await alice.rpc.start()
    await bob.rpc.start()
    const pending = alice.rpc.call('slow', 'wait', null, { peer: bob.id, deadlineMs: 60_000 })
    pending.catch(() => {})
    // Wait until the request is on the wire (bob runs it), then declare bob dead on alice.
    await expect.poll(() => bob.rpc.server.requestsInFlight).toBe(1)
    const gone: MemberTransition = { member: member(bob.id, 'bob'), from: 'alive', to: 'dead', cause: 'unreachable' }
    alice.events.emit('member:dead', gone)
    await expect(pending).rejects.toMatchObject({ name: 'ConnectionLostError' })
  })
})

/** mesh_rpc_requests_total of one method and outcome on a node. */
async function served (n: TestNode, method: string, outcome: string): Promise<number> {
  const values = (await n.metrics.registry.getSingleMetric('mesh_rpc_requests_total')?.get())?.values ?? []
  return values.find(v => v.labels.method === method && v.labels.outcome === outcome)?.value ?? 0
}

describe('MeshRpc: inline methods', () => {
  it('a local call runs an inline method at once and counts it; a remote caller gets the same answer over a stream', async () => {
    const alice = await node('alice')
    const bob = await node('bob')
    let runs = 0
    const square = (args: unknown): number => { runs++; return (args as number) ** 2 }
    for (const n of [alice, bob]) n.rpc.register('sq', { now: square, bad: () => { throw new RangeError('no') } }, { idempotent: true, inline: ['now', 'bad'] })
    meet([alice, bob], ['sq.now', 'sq.bad'])
    await alice.rpc.start()
    await bob.rpc.start()

    const local = alice.rpc.call('sq', 'now', 7, { peer: alice.id })
    // Ran before the call's promise was even awaited: no timer or promise hop in between.
    expect(runs).toBe(1)
    expect(await local).toEqual({ result: 49, peer: alice.id, attempts: 1 })
    expect(alice.rpc.server.requestsInFlight).toBe(0)
    expect(await served(alice, 'sq.now', 'ok')).toBe(1)
    // The method's own error is final, as on any path, and counted as failed.
    await expect(alice.rpc.call('sq', 'bad', null, { peer: alice.id })).rejects.toThrow(RangeError)
    expect(await served(alice, 'sq.bad', 'failed')).toBe(1)

    expect(await alice.rpc.call('sq', 'now', 8, { peer: bob.id })).toMatchObject({ result: 64, peer: bob.id })
    expect(await served(bob, 'sq.now', 'ok')).toBe(1)
  })

  it('an inline method that answers with a promise fails loudly; a method not marked inline keeps its run', async () => {
    const alice = await node('alice')
    alice.rpc.register('m', { lazy: async () => 1, plain: (args: unknown) => args }, { inline: ['lazy'] })
    await alice.rpc.start()
    await expect(alice.rpc.call('m', 'lazy', null, { peer: alice.id })).rejects.toThrow(/did not answer synchronously/)
    expect(await alice.rpc.call('m', 'plain', 'x', { peer: alice.id })).toMatchObject({ result: 'x', peer: alice.id })
    expect(() => { alice.rpc.register('n', { a: () => 1 }, { inline: ['b'] }) }).toThrow(/n\.b is marked inline but is not a method/)
  })
})

describe('MeshRpc: naming the peer of a call', () => {
  it('takes a full id, an id suffix, a nick or nick#suffix, this node included', async () => {
    const alice = await node('alice')
    const bob = await node('bob')
    meet([alice, bob])
    const signal = new AbortController().signal
    const peerOf = (name: string): string | undefined => callOptionsFrom({ peer: name }, alice.rpc, signal).peer
    expect(peerOf('alice')).toBe(alice.id)
    expect(peerOf(bob.id)).toBe(bob.id)
    expect(peerOf('bob')).toBe(bob.id)
    expect(peerOf(bob.id.slice(-6))).toBe(bob.id)
    expect(peerOf(`…${bob.id.slice(-8)}`)).toBe(bob.id)
    expect(peerOf(`bob#${bob.id.slice(-6)}`)).toBe(bob.id)
    expect(nickOf(alice.id, alice.rpc)).toBe('alice')
    expect(nickOf(bob.id, alice.rpc)).toBe('bob')
    expect(nickOf('nobody', alice.rpc)).toBe(null)
  })

  it('an unknown name is UnknownPeerError; an ambiguous one AmbiguousPeerError listing the candidates', async () => {
    const alice = await node('alice')
    const carol1 = await node('carol')
    const carol2 = await node('carol')
    meet([alice, carol1, carol2])
    const signal = new AbortController().signal
    expect(() => callOptionsFrom({ peer: 'dave' }, alice.rpc, signal)).toThrow(expect.objectContaining({ name: 'UnknownPeerError' }))
    let err: any
    try { callOptionsFrom({ peer: 'carol' }, alice.rpc, signal) } catch (e) { err = e }
    expect(err?.name).toBe('AmbiguousPeerError')
    expect([...err.candidates].sort()).toEqual([`carol#${carol1.id.slice(-6)}`, `carol#${carol2.id.slice(-6)}`].sort())
    expect(callOptionsFrom({ peer: `carol#${carol2.id.slice(-6)}` }, alice.rpc, signal).peer).toBe(carol2.id)
  })
})
