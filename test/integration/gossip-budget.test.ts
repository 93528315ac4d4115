import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { callNode } from '../../cli/control-client.ts'
import { MEMBERSHIP_BUDGET } from '../../node/libp2p/gossip-budget.ts'
import { createMeshLibp2p, type MeshLibp2p } from '../../node/libp2p/create-libp2p.ts'
import { MEMBERSHIP_TOPIC } from '../../protocols/membership/index.ts'
import { heartbeatBytes } from '../utils/hostile-peer.ts'
import { counter, MeshProcess, sees, waitUntil } from '../utils/mesh-process.ts'
import { sleep } from '../utils/wait.ts'

const LOOPBACK = ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0']

/**
 * The heartbeat flood of `npm run bench:hostile`: a peer hands a node 10,000 heartbeats in a
 * burst while an honest node chats with it. What gets past the peer's budget is what
 * gossipsub verifies; the rest is dropped and counted before, and the honest node's
 * messages and heartbeats go through untouched.
 */
describe('a gossip flood from one peer', () => {
  let nodes: MeshProcess[] = []
  let attacker: MeshLibp2p | undefined
  afterEach(async () => {
    await attacker?.stop()
    attacker = undefined
    await Promise.all(nodes.map(async n => { await n.destroy() }))
    nodes = []
  })

  it('is cut at the peer\'s budget before verification, counted, and the honest node keeps chatting and beating', async () => {
    // The target logs each peer whose gossip it drops: how the test tells whose it was.
    const target = await MeshProcess.start({ name: 'target', args: LOOPBACK, env: { DEBUG: 'mesh:gossip' } })
    nodes.push(target)
    const honest = await MeshProcess.start({ name: 'honest', args: LOOPBACK, bootstrap: [target.bootstrapAddr] })
    nodes.push(honest)
    await waitUntil('target and honest to see each other', async () => await sees(target, honest, 'alive') && await sees(honest, target, 'alive'), 20_000)

    attacker = await createMeshLibp2p({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
    const pubsub = attacker.services.pubsub
    const id = attacker.peerId.toString()
    pubsub.subscribe(MEMBERSHIP_TOPIC)
    await attacker.dial(multiaddr(target.bootstrapAddr))
    await waitUntil('the attacker to see the target on the membership topic', async () =>
      pubsub.getSubscribers(MEMBERSHIP_TOPIC).some(p => p.toString() === target.id))

    // The honest node chats with the target all through the flood.
    const sent: string[] = []
    let flooding = true
    const chatter = (async () => {
      for (let i = 0; flooding; i++) {
        const text = `honest ${i}`
        await callNode(honest.home, 'chat.send', { room: 'lobby', text })
        sent.push(text)
        await sleep(100)
      }
    })()

    const dropped = async (): Promise<number> => await counter(target, 'mesh_gossip_dropped_total', 'topic=membership,reason=over-budget')
    const verified = async (): Promise<number> => await counter(target, 'mesh_gossip_copies_received_total', 'topic=membership')
    const verifiedBefore = await verified()
    const FLOOD = 10_000
    const started = Date.now()
    try {
      for (let seq = 1; seq <= FLOOD; seq++) await pubsub.publish(MEMBERSHIP_TOPIC, heartbeatBytes(id, 'flood', seq))
      // Every one of them either dropped here or handed to gossipsub (the honest node's own
      // heartbeats add to the second: the sum only has to reach the flood).
      await waitUntil(`all ${FLOOD} heartbeats dropped or handed on`, async () => await dropped() + await verified() - verifiedBefore >= FLOOD, 60_000, 200)
    } finally {
      flooding = false
      await chatter
    }
    const elapsedS = (Date.now() - started) / 1000

    // The excess never reached verification: what did is the budget's burst, its refill
    // while the flood lasted, and the honest node's heartbeats (one a second).
    const allowed = MEMBERSHIP_BUDGET.burst + Math.ceil(MEMBERSHIP_BUDGET.ratePerSecond * elapsedS) + Math.ceil(2 * elapsedS) + 2
    expect(await verified() - verifiedBefore).toBeLessThanOrEqual(allowed)
    expect(await dropped()).toBeGreaterThanOrEqual(FLOOD - allowed)

    // Every honest message sent during the flood is on the target.
    await waitUntil('the honest messages on the target', async () => {
      const { messages } = await callNode<{ messages: Array<{ text: string }> }>(target.home, 'chat.history', { room: 'lobby', limit: 100_000 })
      const texts = new Set(messages.map(m => m.text))
      return sent.every(t => texts.has(t))
    }, 20_000, 250)
    expect(sent.length).toBeGreaterThan(0)

    // The drops were all the attacker's: the target named it, never the honest node, whose
    // heartbeats (and chat) came in under their own peer's budget.
    expect(target.output).toContain(`gossip messages from ${id} (over-budget)`)
    expect(target.output).not.toContain(`from ${honest.id} (`)
    expect(await target.stateOf(honest.id)).toBe('alive')
  })
})
