import { createServer, type AddressInfo, type Socket } from 'node:net'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { lpStream } from '@libp2p/utils'
import { freshIdentityHeartbeatFrames, heartbeatBytes } from '../utils/hostile-peer.ts'
import type { Message } from '@libp2p/gossipsub'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { createMeshLibp2p, type MeshLibp2p } from '../../node/libp2p/create-libp2p.ts'
import {
  decodeMembershipMessage, encodeMembershipMessage, MEMBERSHIP_TOPIC, MEMBERSHIP_WIRE_VERSION, type Heartbeat
} from '../../protocols/membership/index.ts'
import { counter } from '../utils/chat-mesh.ts'
import { callNode } from '../../cli/control-client.ts'
import { DIAL_TIMEOUT_MS, MAX_CANDIDATE_DIALS } from '../../node/discovery/connector.ts'
import { runMesh } from '../utils/run-mesh.ts'
import { MeshProcess, waitUntil } from '../utils/mesh-process.ts'

/**
 * A hostile peer on the membership topic: an in-process libp2p node that signs what it
 * likes with its own key. The node drops and counts it, and the mesh keeps hearing it.
 */
describe('membership input a peer must not get through', () => {
  let node: MeshProcess | undefined
  let attacker: MeshLibp2p | undefined
  afterEach(async () => {
    await attacker?.stop()
    attacker = undefined
    await node?.destroy()
    node = undefined
  })

  /** A real node to attack, and the attacker: a libp2p node subscribed to the membership topic. */
  async function targetAndAttacker (): Promise<{ target: MeshProcess, pubsub: MeshLibp2p['services']['pubsub'], id: string }> {
    node = await MeshProcess.start({ name: 'target', args: ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0'] })
    attacker = await createMeshLibp2p({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
    attacker.services.pubsub.subscribe(MEMBERSHIP_TOPIC)
    return { target: node, pubsub: attacker.services.pubsub, id: attacker.peerId.toString() }
  }


  it('a suspicion naming an absurd incarnation does not push the target past 2^53', async () => {
    node = await MeshProcess.start({ name: 'target', args: ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0'] })
    const target = node
    attacker = await createMeshLibp2p({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
    const pubsub = attacker.services.pubsub
    // Every copy of the target's heartbeats, as the rest of the mesh would get them (raw bytes:
    // the attacker has no validator, so a heartbeat that fails decoding arrives too).
    const beats: Uint8Array[] = []
    pubsub.addEventListener('message', (evt: CustomEvent<Message>) => {
      const msg = evt.detail
      if (msg.topic === MEMBERSHIP_TOPIC && msg.type === 'signed' && msg.from.toString() === target.id) beats.push(msg.data)
    })
    pubsub.subscribe(MEMBERSHIP_TOPIC)
    await attacker.dial(multiaddr(target.bootstrapAddr))
    await waitUntil('the attacker to see the node on the membership topic', async () =>
      pubsub.getSubscribers(MEMBERSHIP_TOPIC).some(p => p.toString() === target.id))
    await waitUntil('a first heartbeat', async () => beats.length > 0)
    const before = decodeMembershipMessage(beats[beats.length - 1]) as Heartbeat

    await pubsub.publish(MEMBERSHIP_TOPIC, encodeMembershipMessage({
      type: 'suspect', v: MEMBERSHIP_WIRE_VERSION, by: attacker.peerId.toString(), target: target.id, incarnation: Number.MAX_SAFE_INTEGER
    }))
    await waitUntil('the forged claim to be dropped and counted', async () =>
      await counter(target, 'mesh_membership_invalid_total', 'reason=implausible-incarnation') === 1)

    // The heartbeats that follow are still valid, at the incarnation the node had.
    const seen = beats.length
    await waitUntil('two more heartbeats', async () => beats.length >= seen + 2)
    for (const bytes of beats.slice(seen)) {
      const hb = decodeMembershipMessage(bytes) as Heartbeat
      expect(hb.incarnation).toBe(before.incarnation)
    }
  })

  it('a burst of 10,000 heartbeats from one origin is cut at its rate before parsing; the node keeps serving', async () => {
    const { target, pubsub, id } = await targetAndAttacker()
    await attacker!.dial(multiaddr(target.bootstrapAddr))
    await waitUntil('the attacker to see the node on the membership topic', async () =>
      pubsub.getSubscribers(MEMBERSHIP_TOPIC).some(p => p.toString() === target.id))
    const heartbeat = (seq: number): Uint8Array => heartbeatBytes(id, 'flood', seq)
    const FLOOD = 10_000
    const started = Date.now()
    for (let seq = 1; seq <= FLOOD; seq++) await pubsub.publish(MEMBERSHIP_TOPIC, heartbeat(seq))
    const limited = async (): Promise<number> => await counter(target, 'mesh_membership_invalid_total', 'reason=rate-limited')
    const received = async (): Promise<number> => await counter(target, 'mesh_membership_received_total', 'type=heartbeat')
    // Most never reach the membership layer: the relaying peer's gossip budget cuts them first.
    const overBudget = async (): Promise<number> => await counter(target, 'mesh_gossip_dropped_total', 'topic=membership,reason=over-budget')
    // Every one is accounted for: taken (and applied), cut at the origin's rate or over the
    // peer's budget, nothing else.
    await waitUntil(`all ${FLOOD} heartbeats taken or cut`, async () => await overBudget() + await limited() + await received() >= FLOOD, 30_000, 200)
    const elapsedS = (Date.now() - started) / 1000
    const taken = FLOOD - await overBudget() - await limited()
    // The bucket's burst, plus its refill while the flood lasted: 10 a second at 1 s beats.
    expect(taken).toBeGreaterThanOrEqual(100)
    expect(taken).toBeLessThanOrEqual(100 + Math.ceil(10 * elapsedS) + 1)
    // It still answers, and still counts the attacker a member (its heartbeats were valid).
    const peers = await callNode(target.home, 'peers')
    expect(peers.members.find((m: { id: string }) => m.id === id)?.state).toBe('alive')
  })

  it('heartbeats of 1,100 fresh ids relayed by one peer: none becomes a member, the node dials four of them at a time, honest newcomers (direct or chained) still get in', async () => {
    const { target } = await targetAndAttacker()
    // Every fake names this address: a listener that accepts and never answers, so each dial
    // to a fake lasts until the node gives up on it. When each dial came.
    const dialledAt: number[] = []
    const sockets: Socket[] = []
    const sink = createServer(socket => {
      dialledAt.push(Date.now())
      sockets.push(socket)
      socket.on('error', () => {})
      socket.resume() // read and drop what the node sends, so its close is seen
    })
    await new Promise<void>(resolve => sink.listen(0, '127.0.0.1', resolve))
    try {
      const FRESH = 1100
      const port = (sink.address() as AddressInfo).port
      // Each heartbeat signed by its own new key, as gossip requires, and written straight
      // onto a gossip stream: the attacker relays them all.
      const frames = await freshIdentityHeartbeatFrames(FRESH, 'fake', [`/ip4/127.0.0.1/tcp/${port}`])
      const lp = lpStream(await attacker!.dialProtocol(multiaddr(target.bootstrapAddr), '/meshsub/1.1.0'))
      for (const frame of frames) await lp.write(frame)
      const refused = async (): Promise<number> => await counter(target, 'mesh_membership_invalid_total', 'reason=new-members-rate')
      const candidates = async (): Promise<number> => await counter(target, 'mesh_membership_candidates_total', 'outcome=new')
      // The control socket's peers answer is what `mesh peers --all` lists; the most fakes it
      // ever listed, read at every poll.
      let fakesListed = 0
      const noteFakes = async (): Promise<number> => {
        const now = (await target.peers()).members.filter(m => m.nick.startsWith('fake')).length
        fakesListed = Math.max(fakesListed, now)
        return now
      }
      // What is over the relay's gossip budget is cut before the membership layer sees it.
      const overBudget = async (): Promise<number> => await counter(target, 'mesh_gossip_dropped_total', 'topic=membership,reason=over-budget')
      await waitUntil('every fresh heartbeat taken (listed or a candidate), refused or over budget', async () =>
        await noteFakes() + await refused() + await candidates() + await overBudget() >= FRESH, 30_000, 200)
      expect(fakesListed).toBe(0)
      expect(await candidates()).toBeGreaterThanOrEqual(200)
      await waitUntil('a dial to a fake', () => dialledAt.length > 0)
      // Only the target dials the fakes: it holds a stranger's heartbeat without passing it on.
      const othersJoinAt = Date.now()
      // An honest node joining now is a member of the target at once, strangers or not; so is
      // one that knows only that newcomer, and is heard of by the target through its gossip.
      const honest = await MeshProcess.start({ name: 'honest', args: ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0'], bootstrap: [target.bootstrapAddr] })
      const chained = await MeshProcess.start({ name: 'chained', args: ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0'], bootstrap: [honest.bootstrapAddr] }).catch(async (err: unknown) => { await honest.destroy(); throw err })
      try {
        await waitUntil('the target to see the honest newcomer alive', async () => await target.stateOf(honest.id) === 'alive', 10_000)
        await waitUntil('the target to see the chained newcomer alive', async () => await target.stateOf(chained.id) === 'alive', 10_000)
      } finally {
        await Promise.all([honest.destroy(), chained.destroy()])
      }
      // Long enough for the fakes to fall silent and their candidacy to lapse.
      await waitUntil('the fake candidates to expire', async () => {
        await noteFakes()
        return await counter(target, 'mesh_membership_candidates') === 0
      }, 20_000, 200)
      const all = await runMesh(['peers', '--all', '--json', '--home', target.home])
      expect(all.code, all.stderr).toBe(0)
      expect(JSON.parse(all.stdout).members.filter((m: { nick: string }) => m.nick.startsWith('fake'))).toEqual([])
      expect(fakesListed).toBe(0)
      // The node dialled fakes, four at a time: a dial to this silent listener lasts the
      // whole dial timeout, so no more than four began within half of one (counted while the
      // target was the only node that could dial them).
      const targetDials = dialledAt.filter(t => t < othersJoinAt)
      for (const at of targetDials) {
        expect(targetDials.filter(t => t >= at && t < at + DIAL_TIMEOUT_MS / 2).length).toBeLessThanOrEqual(MAX_CANDIDATE_DIALS)
      }
    } finally {
      sink.close()
      for (const socket of sockets) socket.destroy()
    }
  })

  it('heartbeats of fresh ids from a hostile peer stay with the node it sent them to: a third node never hears of them', async () => {
    const { target, pubsub, id } = await targetAndAttacker()
    const witness = await MeshProcess.start({ name: 'witness', args: ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0'], bootstrap: [target.bootstrapAddr] })
    try {
      await waitUntil('the target and the witness to see each other alive', async () =>
        await target.stateOf(witness.id) === 'alive' && await witness.stateOf(target.id) === 'alive', 15_000)
      await attacker!.dial(multiaddr(target.bootstrapAddr))
      await waitUntil('the attacker to see the node on the membership topic', async () =>
        pubsub.getSubscribers(MEMBERSHIP_TOPIC).some(p => p.toString() === target.id))
      const FAKES = 30
      const lp = lpStream(await attacker!.dialProtocol(multiaddr(target.bootstrapAddr), '/meshsub/1.1.0'))
      for (const frame of await freshIdentityHeartbeatFrames(FAKES, 'fake')) await lp.write(frame)
      const newCandidates = async (node: MeshProcess): Promise<number> => await counter(node, 'mesh_membership_candidates_total', 'outcome=new')
      await waitUntil('the target to hold every fake as a candidate', async () => await newCandidates(target) >= FAKES, 15_000, 200)
      // The attacker's own heartbeat after them: the target is connected to it, so it passes
      // it on, and the witness, which is not, holds it as its one candidate. It proves the
      // path from the target to the witness carries relayed heartbeats.
      await pubsub.publish(MEMBERSHIP_TOPIC, heartbeatBytes(id, 'attacker', 1))
      await waitUntil('the attacker\'s heartbeat to reach the witness through the target', async () => await newCandidates(witness) >= 1, 15_000, 200)
      expect(await newCandidates(witness)).toBe(1)
      expect((await witness.peers()).members.filter(m => m.nick.startsWith('fake'))).toEqual([])
      expect(await target.stateOf(id)).toBe('alive')
    } finally {
      await witness.destroy()
    }
  })

  it('after a gossip message over the size limit, the peer is reset and its gossip heard again', async () => {
    const { target, pubsub, id } = await targetAndAttacker()
    const addrs = attacker!.getMultiaddrs().map(a => a.toString())
    const heartbeat = (seq: number): Uint8Array => heartbeatBytes(id, 'big', seq, addrs)
    const subscribed = async (): Promise<boolean> => pubsub.getSubscribers(MEMBERSHIP_TOPIC).some(p => p.toString() === target.id)
    const heard = async (): Promise<number> => await counter(target, 'mesh_membership_received_total', 'type=heartbeat')
    await attacker!.dial(multiaddr(target.bootstrapAddr))
    await waitUntil('the attacker to see the node on the membership topic', subscribed)
    await pubsub.publish(MEMBERSHIP_TOPIC, heartbeat(1))
    await waitUntil('its first heartbeat heard', async () => await heard() === 1)

    // Far over the node's inbound limit for one gossip message.
    await pubsub.publish(MEMBERSHIP_TOPIC, new Uint8Array(1024 * 1024)).catch(() => {})
    await waitUntil('the broken stream reset and counted', async () => await counter(target, 'mesh_gossip_stream_resets_total') === 1, 10_000)
    // The node redials the member, gossip starts afresh, and the next heartbeat is heard.
    await waitUntil('the gossip to come back', async () => {
      if (await subscribed()) await pubsub.publish(MEMBERSHIP_TOPIC, heartbeat(2 + await heard())).catch(() => {})
      return await heard() >= 2
    }, 20_000, 500)
  })
})
