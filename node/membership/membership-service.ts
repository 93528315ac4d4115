import { EventEmitter } from 'node:events'
import type { Message } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { TopicValidatorResult, type GossipSub } from '@libp2p/gossipsub'
import {
  decodeMembershipMessage, encodeMembershipMessage, InvalidMembershipMessageError,
  MEMBERSHIP_TOPIC, MEMBERSHIP_WIRE_VERSION, signerOf,
  type Heartbeat, type MembershipMessage
} from '../../protocols/membership/index.ts'
import type { MeshLibp2p } from '../libp2p/create-libp2p.ts'
import { defaultLogger, type Log, type MeshLogger } from '../logging/logger.ts'
import type { MeshMetrics } from '../metrics/metrics.ts'
import { systemClock, type Clock, type Timer } from '../time/clock.ts'
import { eventFor, type MembershipEvents } from './events.ts'
import type { Member, MemberTransition } from './member.ts'
import { RateLimiter } from '../limits/rate-limiter.ts'
import { CandidateTable } from './candidate-table.ts'
import { MemberTable } from './member-table.ts'
import type { MemberView } from './member-view.ts'
import { ReachabilityProbe, type ProbeLibp2p } from './reachability-probe.ts'
import { loadOf, type SelfInfo } from './self-info.ts'
import type { MembershipTiming } from './timing.ts'

/** The part of gossipsub membership uses: its topic, its validator, its two events. */
export type MembershipPubsub = Pick<GossipSub, 'topicValidators' | 'addEventListener' | 'removeEventListener' | 'subscribe' | 'unsubscribe' | 'publish'>

/** The slice of libp2p membership uses: the node's id, gossipsub, and what the probe needs. */
export type MembershipLibp2p = Pick<MeshLibp2p, 'peerId'> & ProbeLibp2p & { services: { pubsub: MembershipPubsub } }

export interface MembershipComponents {
  libp2p: MembershipLibp2p
  metrics: MeshMetrics
  /** Heartbeat and tick timers, member ages and the starting incarnation. Default systemClock. */
  clock?: Clock
  logger?: MeshLogger
}

export interface MembershipInit {
  self: SelfInfo
  timing: MembershipTiming
  /** [0, 1) for the heartbeat jitter; injected for tests. Default Math.random. */
  random?: () => number
  /**
   * Admit a peer on its heartbeat alone, connected or not. Only for a partial mesh (the
   * in-process simulations, `targetPeers`), where a node is by design connected to a few
   * members and hears of the rest through gossip, and every node is the process's own:
   * dialling each one to admit it would rebuild the full mesh the partial one avoids.
   */
  admitOnHearsay?: boolean
}

/** Heartbeats interval jitter: ±10% keeps nodes started together from beating in lockstep. */
const HEARTBEAT_JITTER = 0.1
/** A new subscriber gets our heartbeat at once, but at most this often. */
const MIN_EXTRA_HEARTBEAT_GAP_MS = 100
/**
 * A member back from the dead gets our heartbeat at once, but at most once per this many
 * intervals: a healed cut brings back a whole side in one burst, and one heartbeat answers
 * them all. On a starved machine members flap (dead, then alive at their next heartbeat),
 * and a greeting per flap would add gossip exactly where there is no room for it; one per
 * four intervals adds at most a quarter to this node's heartbeats.
 */
const RETURN_GREETING_EVERY_INTERVALS = 4
/**
 * Incarnations start at the wall clock and grow by one per refutation, so a claim naming one
 * far ahead of the clock is forged. Believed, it would push the target's incarnation past
 * 2^53, where every heartbeat it sends fails validation and the mesh loses it for good. A
 * day leaves room for skewed clocks and for a node whose clock went back since its last run.
 */
const MAX_INCARNATION_LEAD_MS = 24 * 60 * 60 * 1000

/**
 * What one origin may publish: a heartbeat per interval, plus extra heartbeats (a new
 * subscriber, a refutation: at most one per 100 ms) and a suspect and a dead claim for each
 * member that fails. A burst of 100 covers a node that sees dozens of members die at once;
 * ten a second (or four per interval at short intervals) is several times an honest node's
 * steady rate. A flood of heartbeats beyond it costs a bucket lookup each, not a parse.
 */
function originRateFor (timing: MembershipTiming): { ratePerSecond: number, burst: number, maxKeys: number } {
  return { ratePerSecond: Math.max(10, 4 * 1000 / timing.heartbeatMs), burst: 100, maxKeys: 4096 }
}

/**
 * Members never seen before that one peer may bring per second. Peer ids cost nothing, so
 * without it one peer relaying heartbeats of fresh ids fills the table with live strangers
 * and honest newcomers are refused until they die. A joining node learns a whole mesh of a
 * hundred at once (the burst); after that, a source brings at most ten new ones a second, so
 * it can keep only about 250 strangers alive, a quarter of the table. A refused heartbeat
 * costs its member one second: the next one is admitted.
 */
const NEW_MEMBERS_PER_SOURCE = { ratePerSecond: 10, burst: 200, maxKeys: 4096 }

/**
 * Gossip membership: publishes this node's heartbeat, keeps the member table from everyone
 * else's, gossips suspicions and deaths, refutes claims about itself, and says goodbye.
 *
 * Admission: a heartbeat proves only that somebody holds a key, and keys cost nothing. A peer
 * becomes a member once this node has seen a connection to it (libp2p authenticates the peer
 * id in the handshake): its heartbeat arriving while connected, or a connection opening while
 * it is a candidate. Until then it is a candidate (`candidateAddrs()`), which the connector
 * dials, and its heartbeats go no further than this node: gossip relays only what its
 * validator accepts. Once admitted, a member stays one through any cut until it is forgotten.
 */
export class MembershipService extends EventEmitter<MembershipEvents> implements MemberView {
  /** Others read it through the MemberView (`members()`, `member(id)`, `selfMember()`). */
  private readonly table: MemberTable
  private readonly libp2p: MembershipLibp2p
  private readonly metrics: MeshMetrics
  private readonly self: SelfInfo
  private readonly timing: MembershipTiming
  private readonly clock: Clock
  private readonly random: () => number
  private readonly probe: ReachabilityProbe
  private readonly log: Log
  private incarnation: number
  /** Membership messages per origin (the gossip signer), checked before any decoding. */
  private readonly originLimit: RateLimiter
  /** New members per relaying peer (the gossip propagation source). */
  private readonly newMemberLimit: RateLimiter
  /** Peers heard of but never seen connected: not members, not listed. */
  private readonly candidates: CandidateTable
  private readonly admitOnHearsay: boolean
  private seq = 0
  private heartbeatTimer?: Timer
  private tickTimer?: Timer
  private lastHeartbeatAt = 0
  /** When a member back from the dead last got an early heartbeat (greetReturned). */
  private lastGreetingAt?: number
  private started = false
  private leaving = false

  constructor (components: MembershipComponents, init: MembershipInit) {
    super()
    this.libp2p = components.libp2p
    this.metrics = components.metrics
    this.self = init.self
    this.timing = init.timing
    this.clock = components.clock ?? systemClock
    this.random = init.random ?? Math.random
    this.admitOnHearsay = init.admitOnHearsay ?? false
    const logger = components.logger ?? defaultLogger
    this.log = logger.forComponent('membership')
    this.table = new MemberTable({
      timing: init.timing,
      now: this.clock.now,
      onFull: () => { this.metrics.counter('mesh_membership_invalid_total', 'membership messages dropped as invalid', ['reason']).inc({ reason: 'table-full' }) }
    })
    // The incarnation starts at the wall clock so that a restarted node (same peer id, new
    // process) outranks every claim made about its previous life.
    this.incarnation = this.clock.now()
    this.originLimit = new RateLimiter({ clock: this.clock }, originRateFor(init.timing))
    this.newMemberLimit = new RateLimiter({ clock: this.clock }, NEW_MEMBERS_PER_SOURCE)
    this.candidates = new CandidateTable({
      now: this.clock.now,
      // As long as a silent member takes to be declared dead.
      forgetAfterMs: init.timing.suspectAfterMs + init.timing.suspicionTimeoutMs,
      onDropped: () => { this.countCandidate('dropped') }
    })
    this.probe = new ReachabilityProbe({ libp2p: this.libp2p, clock: this.clock, logger }, {
      timing: init.timing,
      shouldProbe: id => { const s = this.table.get(id)?.state; return s === 'alive' || s === 'suspect' },
      onUnreachable: (id, refused) => { this.announce(this.table.markUnreachable(id, refused ? 'dead' : 'suspect')) }
    })
  }

  get peerId (): string {
    return this.libp2p.peerId.toString()
  }

  start (): void {
    if (this.started) return
    this.started = true
    const pubsub = this.libp2p.services.pubsub
    pubsub.topicValidators.set(MEMBERSHIP_TOPIC, this.validate)
    pubsub.addEventListener('message', this.onMessage)
    pubsub.addEventListener('subscription-change', this.onSubscriptionChange)
    pubsub.subscribe(MEMBERSHIP_TOPIC)
    this.libp2p.addEventListener('peer:connect', this.onPeerConnect)
    this.probe.start()
    this.scheduleHeartbeat(this.random() * this.timing.heartbeatMs * HEARTBEAT_JITTER)
    this.tickTimer = this.clock.setInterval(() => { this.tick() }, this.timing.tickMs)
  }

  stop (): void {
    if (!this.started) return
    this.started = false
    this.heartbeatTimer?.clear()
    this.tickTimer?.clear()
    this.probe.stop()
    this.libp2p.removeEventListener('peer:connect', this.onPeerConnect)
    const pubsub = this.libp2p.services.pubsub
    pubsub.removeEventListener('message', this.onMessage)
    pubsub.removeEventListener('subscription-change', this.onSubscriptionChange)
    pubsub.topicValidators.delete(MEMBERSHIP_TOPIC)
    try { pubsub.unsubscribe(MEMBERSHIP_TOPIC) } catch {}
  }

  /** Tells the mesh this node is leaving on purpose, so peers show "left", not "dead". */
  async leave (): Promise<void> {
    this.leaving = true
    this.heartbeatTimer?.clear()
    await this.publish({ type: 'leave', v: MEMBERSHIP_WIRE_VERSION, id: this.peerId, incarnation: this.incarnation })
  }

  /** This node as a member, in the same shape as the others. */
  selfMember (): Member {
    const now = this.clock.now()
    return { ...this.selfFields(), state: 'alive', seq: this.seq, lastSeenAt: now, stateSince: now }
  }

  /** Every other member, whatever its state (a new array; the members are the table's own). */
  members (): Member[] {
    return this.table.list()
  }

  member (id: string): Member | undefined {
    return this.table.get(id)
  }

  /** The candidates (peers heard of, never seen connected) and the addresses they announce. */
  candidateAddrs (): Array<{ id: string, addrs: string[] }> {
    return this.candidates.list().map(c => ({ id: c.heartbeat.id, addrs: c.heartbeat.addrs }))
  }

  /** What a heartbeat says about this node, read fresh each time. */
  private selfFields (): Omit<Heartbeat, 'type' | 'v' | 'seq'> {
    const { workers, queue } = this.self.capacity()
    return {
      id: this.peerId,
      nick: this.self.nick,
      incarnation: this.incarnation,
      workers,
      queue,
      load: loadOf(workers, queue),
      services: this.self.services(),
      roles: this.self.roles(),
      version: this.self.version,
      addrs: this.self.addrs()
    }
  }

  /** Publishes a heartbeat now (also used to answer a suspicion or greet a new peer). */
  private heartbeat (): void {
    if (this.leaving) return
    const hb: Heartbeat = { type: 'heartbeat', v: MEMBERSHIP_WIRE_VERSION, ...this.selfFields(), seq: ++this.seq }
    this.lastHeartbeatAt = this.clock.now()
    this.metrics.counter('mesh_membership_heartbeats_sent_total', 'heartbeats published').inc()
    void this.publish(hb)
  }

  private scheduleHeartbeat (delayMs: number): void {
    this.heartbeatTimer?.clear()
    this.heartbeatTimer = this.clock.setTimeout(() => {
      this.heartbeat()
      const jitter = 1 + (this.random() * 2 - 1) * HEARTBEAT_JITTER
      if (this.started && !this.leaving) this.scheduleHeartbeat(this.timing.heartbeatMs * jitter)
    }, delayMs)
  }

  private tick (): void {
    for (const t of this.table.tick()) {
      this.announce(t)
    }
    const expired = this.candidates.expire()
    if (expired > 0) this.countCandidate('expired', expired)
  }

  /** Counts what happened to candidates, and how many there are now, for `mesh stats`. */
  private countCandidate (outcome: 'new' | 'admitted' | 'dropped' | 'expired' | 'left', n = 1): void {
    this.metrics.counter('mesh_membership_candidates_total', 'peers heard of but never seen connected, by what became of them', ['outcome']).inc({ outcome }, n)
    this.metrics.gauge('mesh_membership_candidates', 'peers heard of but never seen connected, waiting for a connection to be admitted').set(this.candidates.size)
  }

  /** Whether a connection to `id` is open now: libp2p authenticated that peer id. */
  private connectedTo (id: string): boolean {
    let peerId: PeerId
    try { peerId = peerIdFromString(id) } catch { return false }
    return this.libp2p.getConnections(peerId).length > 0
  }

  /**
   * A heartbeat of a peer that is not a member: admitted if connected now (it reached us
   * directly, or we dialled it), else kept as a candidate for the connector to dial.
   */
  private admitOrHold (hb: Heartbeat): void {
    if (this.admitOnHearsay || this.connectedTo(hb.id)) {
      if (this.candidates.take(hb.id) != null) this.countCandidate('admitted')
      this.announce(this.table.applyHeartbeat(hb))
      return
    }
    this.hold(hb)
  }

  /** Keeps a stranger's heartbeat as a candidate; a new candidate is for the connector to dial. */
  private hold (hb: Heartbeat): void {
    if (this.candidates.offer(hb)) {
      this.countCandidate('new')
      this.emit('candidate', hb.id)
    }
  }

  /** A connection to a candidate proves it exists: it becomes a member with its newest heartbeat. */
  private readonly onPeerConnect = (event: CustomEvent<PeerId>): void => {
    const candidate = this.candidates.take(event.detail.toString())
    if (candidate == null) return
    this.countCandidate('admitted')
    this.announce(this.table.applyHeartbeat(candidate.heartbeat))
  }

  /** Emits a transition and, for our own verdicts, gossips it so the others look too. */
  private announce (t: MemberTransition | null): void {
    if (t == null) return
    this.metrics.counter('mesh_membership_transitions_total', 'member state changes', ['to', 'cause']).inc({ to: t.to, cause: t.cause })
    this.log('%s (%s) %s -> %s (%s)', t.member.nick, t.member.id, t.from, t.to, t.cause)
    // A death that only confirms another node's suspicion is that node's to gossip: when a
    // cut silences half a mesh, every node on the other side times out the same suspicions
    // at once, and each gossiping its own verdicts made a claim per pair (2,500 in a mesh of
    // a hundred, each to fifty nodes), a burst that held the side's own heartbeats back
    // long enough for members heard a moment before to be suspected.
    if ((t.to === 'suspect' || t.to === 'dead') && t.cause !== 'claim' && t.secondhand !== true) {
      void this.publish({ type: t.to, v: MEMBERSHIP_WIRE_VERSION, by: this.peerId, target: t.member.id, incarnation: t.member.incarnation })
    }
    this.emit(eventFor(t), t)
    if (t.from === 'dead' && t.to === 'alive') this.greetReturned()
  }

  /**
   * A member we thought dead is back (a healed cut, a restart): it thinks us dead too, or
   * never knew us, and without this would learn otherwise only at our next heartbeat, up to
   * an interval away. So the heartbeat goes now and the next a full interval later: the two
   * sides of a healed cut learn of each other within a gossip round trip (each side answers
   * the first heartbeat it hears from the other), not a heartbeat interval, at one heartbeat
   * per node per heal (and at most one per RETURN_GREETING_EVERY_INTERVALS).
   */
  private greetReturned (): void {
    if (!this.started || this.leaving) return
    const now = this.clock.now()
    if (this.lastGreetingAt != null && now - this.lastGreetingAt < this.timing.heartbeatMs * RETURN_GREETING_EVERY_INTERVALS) return
    if (now - this.lastHeartbeatAt < MIN_EXTRA_HEARTBEAT_GAP_MS) return
    this.lastGreetingAt = now
    this.heartbeat()
    const jitter = 1 + (this.random() * 2 - 1) * HEARTBEAT_JITTER
    this.scheduleHeartbeat(this.timing.heartbeatMs * jitter)
  }

  private async publish (message: MembershipMessage): Promise<void> {
    try {
      await this.libp2p.services.pubsub.publish(MEMBERSHIP_TOPIC, encodeMembershipMessage(message))
    } catch (err: any) {
      // Alone in the mesh (no subscriber yet) is normal for a heartbeat; nothing is lost,
      // the next one goes out in a second.
      if (err?.name !== 'PublishError' && !/NoPeersSubscribedToTopic/.test(String(err?.message))) {
        this.log('publish %s failed: %s', message.type, err?.message)
      }
    }
  }

  /** Runs inside gossipsub before delivery or forwarding: invalid messages go no further. */
  private readonly validate = (source: { toString: () => string }, msg: Message): TopicValidatorResult => {
    // Before any parsing: an origin that floods is cut off at its rate. Ignore, not Reject:
    // the peer that relayed the flood is not to blame for its author.
    if (msg.type === 'signed' && !this.originLimit.tryTake(msg.from.toString())) {
      this.metrics.counter('mesh_membership_invalid_total', 'membership messages dropped as invalid', ['reason']).inc({ reason: 'rate-limited' })
      return TopicValidatorResult.Ignore
    }
    try {
      const message = decodeMembershipMessage(msg.data)
      if (msg.type !== 'signed' || msg.from.toString() !== signerOf(message)) {
        throw new InvalidMembershipMessageError('wrong-signer', `signed by ${msg.type === 'signed' ? msg.from.toString() : 'nobody'}, claims ${signerOf(message)}`)
      }
      if ((message.type === 'suspect' || message.type === 'dead') && message.incarnation > this.clock.now() + MAX_INCARNATION_LEAD_MS) {
        throw new InvalidMembershipMessageError('implausible-incarnation', `a ${message.type} claim names incarnation ${message.incarnation}, far ahead of the clock`)
      }
      // A stranger's heartbeat is admitted at the rate its relay may bring strangers; Ignore,
      // not Reject: the relay may be honest, forwarding what it was sent.
      if (message.type === 'heartbeat' && message.id !== this.peerId && this.table.get(message.id) == null &&
        !this.candidates.has(message.id) && !this.newMemberLimit.tryTake(source.toString())) {
        this.metrics.counter('mesh_membership_invalid_total', 'membership messages dropped as invalid', ['reason']).inc({ reason: 'new-members-rate' })
        return TopicValidatorResult.Ignore
      }
      // A stranger's heartbeat (not a member, not connected) is held here, not passed on:
      // Accepted, gossip would relay it, and every neighbour of a node fed made-up ids would
      // hold and dial them too. The stranger's own heartbeats reach the others once it is
      // connected to somebody who admitted it.
      if (message.type === 'heartbeat' && message.id !== this.peerId && this.table.get(message.id) == null &&
        !this.admitOnHearsay && !this.connectedTo(message.id)) {
        this.hold(message)
        return TopicValidatorResult.Ignore
      }
      return TopicValidatorResult.Accept
    } catch (err: any) {
      const reason = err instanceof InvalidMembershipMessageError ? err.reason : 'error'
      this.metrics.counter('mesh_membership_invalid_total', 'membership messages dropped as invalid', ['reason']).inc({ reason })
      this.log('dropped invalid membership message: %s', err?.message)
      return TopicValidatorResult.Reject
    }
  }

  private readonly onMessage = (event: CustomEvent<Message>): void => {
    const msg = event.detail
    if (msg.topic !== MEMBERSHIP_TOPIC) return
    try {
      this.handle(decodeMembershipMessage(msg.data))
    } catch (err: any) {
      this.log('membership message not applied: %s', err?.message)
    }
  }

  private handle (message: MembershipMessage): void {
    this.metrics.counter('mesh_membership_received_total', 'membership messages received', ['type']).inc({ type: message.type })
    switch (message.type) {
      case 'heartbeat':
        if (message.id === this.peerId) return
        if (this.table.get(message.id) == null) this.admitOrHold(message)
        else this.announce(this.table.applyHeartbeat(message))
        return
      case 'leave':
        if (message.id === this.peerId) return
        // A candidate that leaves is gone: nothing left to admit.
        if (this.candidates.take(message.id) != null) this.countCandidate('left')
        this.announce(this.table.applyLeave(message))
        return
      case 'suspect':
      case 'dead':
        if (message.target === this.peerId) {
          this.refute(message.incarnation)
          return
        }
        this.announce(this.table.applyClaim(message))
    }
  }

  /** Somebody thinks we are suspect or dead: outrank the claim and prove we are alive. */
  private refute (claimedIncarnation: number): void {
    if (this.leaving || claimedIncarnation < this.incarnation) return
    this.incarnation = claimedIncarnation + 1
    this.seq = 0
    this.metrics.counter('mesh_membership_refutations_total', 'claims about this node refuted').inc()
    this.log('refuting a claim at incarnation %d', claimedIncarnation)
    this.heartbeat()
  }

  /**
   * A new peer just subscribed to membership: send our heartbeat now rather than in up to a
   * second. Only a peer that is not a live member yet, and only that topic: every heartbeat
   * goes to the whole mesh and costs each member a signature check, while a member that
   * opens one more connection, or joins a chat room, already has our heartbeats. In a
   * hundred-node mesh every node opens several connections as it starts, and those extra
   * heartbeats were most of the mesh's gossip.
   */
  private readonly onSubscriptionChange = (event: CustomEvent<{ peerId?: { toString: () => string }, subscriptions?: Array<{ topic: string, subscribe: boolean }> }>): void => {
    const subscriptions = event?.detail?.subscriptions
    if (subscriptions != null && !subscriptions.some(s => s.topic === MEMBERSHIP_TOPIC && s.subscribe)) return
    const peer = event?.detail?.peerId?.toString()
    if (peer != null && this.table.get(peer)?.state === 'alive') return
    if (this.clock.now() - this.lastHeartbeatAt < MIN_EXTRA_HEARTBEAT_GAP_MS) return
    this.heartbeat()
  }
}
