import { generateKeyPair } from '@libp2p/crypto/keys'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterEach, describe, expect, it } from 'vitest'
import { createMeshLibp2p, type MeshLibp2p } from '../../../node/libp2p/create-libp2p.ts'
import { GossipBudget, installGossipBudget, MEMBERSHIP_BUDGET } from '../../../node/libp2p/gossip-budget.ts'
import { FakeClock } from '../../../node/time/fake-clock.ts'
import { MEMBERSHIP_TOPIC } from '../../../protocols/membership/index.ts'
import { heartbeatBytes, signedGossipMessages } from '../../utils/hostile-peer.ts'

/**
 * One RPC carrying 600 heartbeats, handed to a real gossipsub (in-memory libp2p) with the
 * budget in front: the part over the budget never reaches verification, and the rest is
 * verified a slice at a time with turns of the event loop between, not in one stretch.
 */
describe('installGossipBudget', () => {
  let libp2p: MeshLibp2p | undefined
  afterEach(async () => { await libp2p?.stop(); libp2p = undefined })

  it('verifies a large RPC in slices with turns of the event loop between, and only what is within the budget', async () => {
    libp2p = await createMeshLibp2p({ privateKey: await generateKeyPair('Ed25519'), listen: ['/memory/gossip-budget-slices'], mdns: false, transport: 'memory' })
    const pubsub = libp2p.services.pubsub
    pubsub.subscribe(MEMBERSHIP_TOPIC)
    const drops: string[] = []
    // A clock that stands still: no token comes back while the 600 are admitted.
    installGossipBudget(pubsub, new GossipBudget({ clock: new FakeClock(0) }, { onDropped: (_kind, reason) => { drops.push(reason) } }))

    // The topic validator runs after gossipsub's signature check: what it sees was verified.
    // Each call notes which turn of the event loop it ran in.
    let turn = 0
    const verifiedPerTurn = new Map<number, number>()
    pubsub.topicValidators.set(MEMBERSHIP_TOPIC, () => {
      verifiedPerTurn.set(turn, (verifiedPerTurn.get(turn) ?? 0) + 1)
      return TopicValidatorResult.Ignore
    })
    let counting = true
    const countTurns = (): void => { turn++; if (counting) setImmediate(countTurns) }
    setImmediate(countTurns)

    const key = await generateKeyPair('Ed25519')
    const id = peerIdFromPrivateKey(key).toString()
    const messages = await signedGossipMessages(key, MEMBERSHIP_TOPIC, Array.from({ length: 600 }, (_, i) => heartbeatBytes(id, 'burst', i + 1)))
    const handling = pubsub as unknown as { handleReceivedRpc: (from: unknown, rpc: unknown) => Promise<void> }
    await handling.handleReceivedRpc(peerIdFromPrivateKey(key), { subscriptions: [], messages })
    await new Promise(resolve => setImmediate(resolve))
    counting = false

    const verified = [...verifiedPerTurn.values()].reduce((a, b) => a + b, 0)
    expect(verified).toBe(MEMBERSHIP_BUDGET.burst)
    expect(drops).toEqual(Array(600 - MEMBERSHIP_BUDGET.burst).fill('over-budget'))
    // Spread over many turns, none of which verified more than a slice.
    expect(verifiedPerTurn.size).toBeGreaterThanOrEqual(MEMBERSHIP_BUDGET.burst / 16)
    expect(Math.max(...verifiedPerTurn.values())).toBeLessThanOrEqual(16)
  })
})
