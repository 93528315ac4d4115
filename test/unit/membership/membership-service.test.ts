import type { PeerId } from '@libp2p/interface'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { beforeEach, describe, expect, it } from 'vitest'
import { encodeMembershipMessage, MEMBERSHIP_TOPIC, type Heartbeat, type MembershipMessage } from '../../../protocols/membership/index.ts'
import type { MemberTransition } from '../../../node/membership/member.ts'
import { MembershipService, type MembershipLibp2p } from '../../../node/membership/membership-service.ts'
import { timingFor } from '../../../node/membership/timing.ts'
import { MeshMetrics } from '../../../node/metrics/metrics.ts'
import { FakeClock } from '../../../node/time/fake-clock.ts'
import { heartbeat } from '../../utils/heartbeat.ts'
import { FakeEvents, FakePubsub, newPeerId } from './fake-libp2p.ts'

const timing = timingFor(1000)

interface Rig {
  clock: FakeClock
  pubsub: FakePubsub
  events: FakeEvents
  service: MembershipService
  self: PeerId
  transitions: Array<{ at: number, change: string }>
  /** Heartbeats this node published, with the fake time each went out. */
  beats: () => Heartbeat[]
  /** bob's message, as gossipsub would deliver it. */
  fromBob: (message: MembershipMessage) => void
  bob: PeerId
  /** Peer ids this node has a connection to now: bob from the start. */
  connected: Set<string>
  metrics: MeshMetrics
}

async function rig (init: { admitOnHearsay?: boolean } = {}): Promise<Rig> {
  const clock = new FakeClock()
  const pubsub = new FakePubsub()
  const events = new FakeEvents()
  const self = await newPeerId()
  const bob = await newPeerId()
  const connected = new Set([bob.toString()])
  const metrics = new MeshMetrics()
  const libp2p = {
    peerId: self,
    addEventListener: events.addEventListener,
    removeEventListener: events.removeEventListener,
    getConnections: (peer?: PeerId) => peer != null && connected.has(peer.toString()) ? [{}] : [],
    services: { pubsub, ping: { ping: async () => { throw new Error('no ping in this test') } } }
  } as unknown as MembershipLibp2p
  const service = new MembershipService({ libp2p, metrics, clock }, {
    timing,
    ...init,
    // 0.5: the first beat after half the jitter window, then exactly one interval apart.
    random: () => 0.5,
    self: {
      nick: 'alice',
      version: '0.1.0',
      capacity: () => ({ workers: { total: 2, free: 2 }, queue: 0 }),
      services: () => [],
      roles: () => [],
      addrs: () => []
    }
  })
  const transitions: Rig['transitions'] = []
  const record = (t: MemberTransition): void => { transitions.push({ at: clock.now(), change: `${t.from}->${t.to}:${t.cause}` }) }
  for (const event of ['member:join', 'member:update', 'member:dead', 'member:leave'] as const) service.on(event, record)
  return {
    clock,
    pubsub,
    events,
    service,
    self,
    bob,
    connected,
    metrics,
    transitions,
    beats: () => pubsub.published.filter((m): m is Heartbeat => m.type === 'heartbeat'),
    fromBob: message => { pubsub.deliver(MEMBERSHIP_TOPIC, bob, encodeMembershipMessage(message)) }
  }
}

describe('membership service under a fake clock', () => {
  let r: Rig
  beforeEach(async () => { r = await rig() })

  it('beats after a jittered first delay, then once per interval, with a rising seq', async () => {
    const start = r.clock.now()
    r.service.start()
    await r.clock.advance(timing.heartbeatMs * 0.05 - 1)
    expect(r.beats()).toHaveLength(0)
    await r.clock.advance(1)
    expect(r.beats()).toHaveLength(1)
    await r.clock.advance(timing.heartbeatMs * 3)
    expect(r.beats().map(b => b.seq)).toEqual([1, 2, 3, 4])
    // The incarnation starts at the node's clock, not the machine's.
    expect(r.beats()[0].incarnation).toBe(start)
    expect(r.beats()[0].id).toBe(r.self.toString())
  })

  it('a silent member is suspect after suspectAfterMs and dead after the suspicion timeout, on the clock', async () => {
    r.service.start()
    const t0 = r.clock.now()
    r.fromBob(heartbeat({ id: r.bob.toString() }))
    expect(r.service.member(r.bob.toString())?.state).toBe('alive')
    expect(r.service.members().map(m => m.id)).toEqual([r.bob.toString()])

    await r.clock.advance(timing.suspectAfterMs + timing.suspicionTimeoutMs + 2 * timing.tickMs)
    const [join, suspect, dead] = r.transitions
    expect(join).toEqual({ at: t0, change: 'null->alive:heartbeat' })
    expect(suspect.change).toBe('alive->suspect:missed-heartbeats')
    // Within one tick of the timeout, never before it.
    expect(suspect.at - t0).toBeGreaterThan(timing.suspectAfterMs)
    expect(suspect.at - t0).toBeLessThanOrEqual(timing.suspectAfterMs + timing.tickMs)
    expect(dead.change).toBe('suspect->dead:suspicion-timeout')
    expect(dead.at - suspect.at).toBeGreaterThan(timing.suspicionTimeoutMs)
    expect(dead.at - suspect.at).toBeLessThanOrEqual(timing.suspicionTimeoutMs + timing.tickMs)
    // Our own verdicts are gossiped so the others look too.
    expect(r.pubsub.published.filter(m => m.type !== 'heartbeat').map(m => m.type)).toEqual(['suspect', 'dead'])
  })

  it('a suspicion taken from another node\'s claim ends in death here, but that death is the claimant\'s to gossip', async () => {
    r.service.start()
    const carol = await newPeerId()
    const beat = heartbeat({ id: r.bob.toString() })
    r.fromBob(beat)
    // Carol's word about bob, relayed.
    r.pubsub.deliver(MEMBERSHIP_TOPIC, carol, encodeMembershipMessage({ type: 'suspect', v: 1, by: carol.toString(), target: r.bob.toString(), incarnation: beat.incarnation }))
    await r.clock.advance(timing.suspicionTimeoutMs + 2 * timing.tickMs)
    expect(r.transitions.map(t => t.change)).toEqual(['null->alive:heartbeat', 'alive->suspect:claim', 'suspect->dead:suspicion-timeout'])
    // Every node that heard the claim would otherwise gossip a death of its own at the same moment.
    expect(r.pubsub.published.filter(m => m.type !== 'heartbeat')).toEqual([])
  })

  it('heartbeats on time keep a member alive', async () => {
    r.service.start()
    for (let seq = 1; seq <= 10; seq++) {
      r.fromBob(heartbeat({ id: r.bob.toString(), seq }))
      await r.clock.advance(timing.heartbeatMs)
    }
    expect(r.transitions.map(t => t.change)).toEqual(['null->alive:heartbeat'])
  })

  it('greets a new membership subscriber with a heartbeat at once, but not a live member or a peer joining another topic', async () => {
    r.service.start()
    // Between two regular beats, past the least gap between extra ones.
    await r.clock.advance(timing.heartbeatMs + 200)
    const before = r.beats().length
    r.pubsub.dispatch('subscription-change', { peerId: r.bob, subscriptions: [{ topic: 'mesh/chat/1/general', subscribe: true }] })
    expect(r.beats()).toHaveLength(before)
    r.pubsub.dispatch('subscription-change', { peerId: r.bob, subscriptions: [{ topic: MEMBERSHIP_TOPIC, subscribe: true }] })
    expect(r.beats()).toHaveLength(before + 1)
    // Once bob is a live member, another connection of his (a new subscription) is no news.
    r.fromBob(heartbeat({ id: r.bob.toString(), incarnation: r.clock.now(), seq: 1 }))
    expect(r.service.member(r.bob.toString())?.state).toBe('alive')
    await r.clock.advance(200)
    r.pubsub.dispatch('subscription-change', { peerId: r.bob, subscriptions: [{ topic: MEMBERSHIP_TOPIC, subscribe: true }] })
    expect(r.beats()).toHaveLength(before + 1)
  })

  it('refutes a claim about itself at once with a higher incarnation', async () => {
    r.service.start()
    const incarnation = r.clock.now()
    r.fromBob({ type: 'suspect', v: 1, by: r.bob.toString(), target: r.self.toString(), incarnation })
    expect(r.beats().at(-1)).toMatchObject({ incarnation: incarnation + 1, seq: 1 })
  })

  it('judges a claim\'s incarnation against the node\'s clock', () => {
    r.service.start()
    const validate = r.pubsub.topicValidators.get(MEMBERSHIP_TOPIC)!
    const claim = (incarnation: number): unknown => validate(r.bob, {
      type: 'signed', topic: MEMBERSHIP_TOPIC, from: r.bob,
      data: encodeMembershipMessage({ type: 'dead', v: 1, by: r.bob.toString(), target: r.self.toString(), incarnation })
    })
    expect(claim(r.clock.now() + 60_000)).toBe(TopicValidatorResult.Accept)
    // Two days ahead of this node's clock (though not of the machine's): forged.
    expect(claim(r.clock.now() + 2 * 24 * 3600_000)).toBe(TopicValidatorResult.Reject)
  })

  it('start twice is harmless; stop undoes start; start after stop works', async () => {
    r.service.start()
    r.service.start()
    expect(r.pubsub.count('message')).toBe(1)
    expect(r.pubsub.count('subscription-change')).toBe(1)
    expect(r.events.count('peer:disconnect')).toBe(1)
    expect(r.clock.pendingTimers).toBe(2) // the next heartbeat and the table tick
    await r.clock.advance(timing.heartbeatMs)
    expect(r.beats()).toHaveLength(1)

    r.service.stop()
    expect(r.pubsub.total()).toBe(0)
    expect(r.events.total()).toBe(0)
    expect(r.pubsub.topicValidators.size).toBe(0)
    expect(r.pubsub.subscribed.size).toBe(0)
    expect(r.clock.pendingTimers).toBe(0)
    await r.clock.advance(timing.heartbeatMs * 3)
    expect(r.beats()).toHaveLength(1)

    r.service.start()
    expect(r.pubsub.count('message')).toBe(1)
    expect(r.events.count('peer:disconnect')).toBe(1)
    await r.clock.advance(timing.heartbeatMs * 2)
    expect(r.beats().map(b => b.seq)).toEqual([1, 2, 3])
    r.fromBob(heartbeat({ id: r.bob.toString() }))
    expect(r.service.member(r.bob.toString())?.state).toBe('alive')
    r.service.stop()
  })
})

describe('admission: a peer is a member once seen connected', () => {
  let r: Rig
  beforeEach(async () => { r = await rig() })

  /** carol's heartbeat as bob relays it: signed by carol, who never connected to this node. */
  async function relayed (seq = 1, addrs: string[] = []): Promise<{ carol: PeerId, send: (seq: number) => void }> {
    const carol = await newPeerId()
    const send = (n: number): void => { r.pubsub.deliver(MEMBERSHIP_TOPIC, carol, encodeMembershipMessage(heartbeat({ id: carol.toString(), nick: 'carol', seq: n, addrs }))) }
    send(seq)
    return { carol, send }
  }

  async function candidateCount (outcome: string): Promise<number> {
    return (await r.metrics.snapshot()).mesh_membership_candidates_total?.[`outcome=${outcome}`] ?? 0
  }

  it('a relayed heartbeat of a peer never connected makes a candidate, which a connection admits with its newest fields', async () => {
    r.service.start()
    const heard: string[] = []
    r.service.on('candidate', id => heard.push(id))
    const { carol, send } = await relayed(1, ['/ip4/127.0.0.1/tcp/4001'])
    send(2)
    expect(r.service.member(carol.toString())).toBeUndefined()
    expect(r.service.members()).toEqual([])
    expect(r.service.candidateAddrs()).toEqual([{ id: carol.toString(), addrs: ['/ip4/127.0.0.1/tcp/4001'] }])
    expect(heard).toEqual([carol.toString()])
    expect((await r.metrics.snapshot()).mesh_membership_candidates.total).toBe(1)

    r.connected.add(carol.toString())
    r.events.dispatch('peer:connect', carol)
    expect(r.service.member(carol.toString())).toMatchObject({ state: 'alive', nick: 'carol', seq: 2 })
    expect(r.transitions.map(t => t.change)).toEqual(['null->alive:heartbeat'])
    expect(r.service.candidateAddrs()).toEqual([])
    expect(await candidateCount('admitted')).toBe(1)
  })

  it('a stranger\'s relayed heartbeat is held, not passed on; its own heartbeat once connected, or any on hearsay, is', async () => {
    r.service.start()
    const carol = await newPeerId()
    const beat = (seq: number): Uint8Array => encodeMembershipMessage(heartbeat({ id: carol.toString(), nick: 'carol', seq, addrs: ['/ip4/127.0.0.1/tcp/4001'] }))
    // Ignore: gossipsub neither delivers nor forwards it, so bob's neighbours never hear of carol from us.
    expect(r.pubsub.deliver(MEMBERSHIP_TOPIC, carol, beat(1), r.bob)).toBe(TopicValidatorResult.Ignore)
    expect(r.pubsub.deliver(MEMBERSHIP_TOPIC, carol, beat(2), r.bob)).toBe(TopicValidatorResult.Ignore)
    expect(r.service.candidateAddrs().map(c => c.id)).toEqual([carol.toString()])
    expect(await candidateCount('new')).toBe(1)
    // Connected: the connection admits it, and its heartbeats go on to the others.
    r.connected.add(carol.toString())
    r.events.dispatch('peer:connect', carol)
    expect(r.service.member(carol.toString())).toMatchObject({ state: 'alive', seq: 2 })
    expect(r.pubsub.deliver(MEMBERSHIP_TOPIC, carol, beat(3), r.bob)).toBe(TopicValidatorResult.Accept)
    // A stranger that reaches us directly is admitted at once, and passed on.
    const dave = await newPeerId()
    r.connected.add(dave.toString())
    expect(r.pubsub.deliver(MEMBERSHIP_TOPIC, dave, encodeMembershipMessage(heartbeat({ id: dave.toString() })))).toBe(TopicValidatorResult.Accept)
    expect(r.service.member(dave.toString())?.state).toBe('alive')

    r = await rig({ admitOnHearsay: true })
    r.service.start()
    const erin = await newPeerId()
    expect(r.pubsub.deliver(MEMBERSHIP_TOPIC, erin, encodeMembershipMessage(heartbeat({ id: erin.toString() })), r.bob)).toBe(TopicValidatorResult.Accept)
    r.service.stop()
  })

  it('a member back from the dead gets our heartbeat at once, and the next a full interval later; a burst of returns, one heartbeat', async () => {
    r.service.start()
    await r.clock.advance(timing.heartbeatMs * 0.05)
    const others = [r.bob, await newPeerId(), await newPeerId()]
    const late = await newPeerId()
    for (const peer of [...others, late]) r.connected.add(peer.toString())
    const beat = (peer: PeerId, seq: number): void => { r.pubsub.deliver(MEMBERSHIP_TOPIC, peer, encodeMembershipMessage(heartbeat({ id: peer.toString(), seq }))) }
    for (const peer of [...others, late]) beat(peer, 1)
    // All three fall silent (a cut) and die; our own heartbeats go on.
    await r.clock.advance(timing.suspectAfterMs + timing.suspicionTimeoutMs + 2 * timing.tickMs)
    expect(others.map(p => r.service.member(p.toString())?.state)).toEqual(['dead', 'dead', 'dead'])
    // Our last beat was 0.7 of an interval ago, the next due in 0.3.
    const before = r.beats().length
    // The cut heals: their heartbeats arrive together.
    for (const peer of others) beat(peer, 2)
    expect(others.map(p => r.service.member(p.toString())?.state)).toEqual(['alive', 'alive', 'alive'])
    expect(r.beats()).toHaveLength(before + 1)
    // The regular beat that was due 0.3 of an interval later moved to a full interval after the greeting.
    await r.clock.advance(timing.heartbeatMs * 0.85)
    expect(r.beats()).toHaveLength(before + 1)
    await r.clock.advance(timing.heartbeatMs * 0.2)
    expect(r.beats()).toHaveLength(before + 2)
    // Another return within four intervals of the greeting (a flapping member on a starved
    // machine) waits for the regular beats.
    beat(late, 2)
    expect(r.service.member(late.toString())?.state).toBe('alive')
    expect(r.beats()).toHaveLength(before + 2)
  })

  it('in a partial mesh (admitOnHearsay), a relayed heartbeat admits its peer with no connection', async () => {
    r = await rig({ admitOnHearsay: true })
    r.service.start()
    const { carol } = await relayed(1)
    expect(r.service.member(carol.toString())).toMatchObject({ state: 'alive', nick: 'carol' })
    expect(r.service.candidateAddrs()).toEqual([])
    r.service.stop()
  })

  it('a heartbeat that arrives while connected to its origin admits it at once; a member stays one when cut off', async () => {
    r.service.start()
    r.fromBob(heartbeat({ id: r.bob.toString() }))
    expect(r.service.member(r.bob.toString())?.state).toBe('alive')
    expect(r.service.candidateAddrs()).toEqual([])
    // Cut off: its heartbeats now come through others, and still count.
    r.connected.clear()
    r.fromBob(heartbeat({ id: r.bob.toString(), seq: 2 }))
    expect(r.service.member(r.bob.toString())?.seq).toBe(2)
    await r.clock.advance(timing.suspectAfterMs + timing.suspicionTimeoutMs + 2 * timing.tickMs)
    expect(r.service.member(r.bob.toString())?.state).toBe('dead')
    r.fromBob(heartbeat({ id: r.bob.toString(), seq: 3 }))
    expect(r.service.member(r.bob.toString())?.state).toBe('alive')
  })

  it('a connection opened before the first heartbeat: the heartbeat admits at once', async () => {
    r.service.start()
    const carol = await newPeerId()
    r.connected.add(carol.toString())
    r.events.dispatch('peer:connect', carol)
    expect(r.service.members()).toEqual([])
    r.pubsub.deliver(MEMBERSHIP_TOPIC, carol, encodeMembershipMessage(heartbeat({ id: carol.toString() })))
    expect(r.service.member(carol.toString())?.state).toBe('alive')
  })

  it('candidates are bounded (the one heard least recently dropped first), expire when silent, and go on a leave', async () => {
    r.service.start()
    const first = await relayed()
    const keeps = await relayed()
    const others = []
    for (let i = 0; i < 62; i++) others.push(await relayed())
    keeps.send(2) // heard again: now the most recent
    expect(r.service.candidateAddrs()).toHaveLength(64)
    await relayed()
    const ids = r.service.candidateAddrs().map(c => c.id)
    expect(ids).toHaveLength(64)
    expect(ids).not.toContain(first.carol.toString())
    expect(ids).toContain(keeps.carol.toString())
    expect(await candidateCount('dropped')).toBe(1)
    expect(r.service.members()).toEqual([])

    r.pubsub.deliver(MEMBERSHIP_TOPIC, keeps.carol, encodeMembershipMessage({ type: 'leave', v: 1, id: keeps.carol.toString(), incarnation: 100 }))
    expect(r.service.candidateAddrs().map(c => c.id)).not.toContain(keeps.carol.toString())
    expect(await candidateCount('left')).toBe(1)
    expect((await r.metrics.snapshot()).mesh_membership_candidates.total).toBe(63)

    // Silent as long as a member takes to die: forgotten.
    await r.clock.advance(timing.suspectAfterMs + timing.suspicionTimeoutMs + 2 * timing.tickMs)
    expect(r.service.candidateAddrs()).toEqual([])
    expect(await candidateCount('expired')).toBe(63)
    expect((await r.metrics.snapshot()).mesh_membership_candidates.total).toBe(0)
  })

  it('stop stops listening for connections', () => {
    r.service.start()
    expect(r.events.count('peer:connect')).toBe(1)
    r.service.stop()
    expect(r.events.count('peer:connect')).toBe(0)
  })
})
