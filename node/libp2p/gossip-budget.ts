import type { GossipSub } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { CHAT_TOPIC_PREFIX } from '../../protocols/chat/index.ts'
import { MEMBERSHIP_TOPIC } from '../../protocols/membership/index.ts'
import { RateLimiter } from '../limits/rate-limiter.ts'
import { defaultLogger, type Log, type MeshLogger } from '../logging/logger.ts'
import { systemClock, type Clock } from '../time/clock.ts'

/**
 * A budget of gossip messages per propagating peer and topic, applied before gossipsub does
 * any work on them. Gossipsub checks each message's signature and computes its id before any
 * topic validator runs, so a limit in a validator (per origin, per new member) comes after
 * the expensive part: a burst of 10,000 heartbeats held the event loop for seconds while
 * each one was verified only to be dropped. The peer that handed over an RPC is the one end
 * of the connection and cannot be forged, so its share is what is counted here.
 *
 * The work on what passes is cut into slices with a turn of the event loop between them, so
 * the control socket and the other peers' streams are served while a large RPC is worked.
 */

export type GossipDropReason = 'over-budget' | 'not-subscribed'

/** What the `topic` label of a gossip metric says: one of three, never the topic itself. */
export type TopicKind = 'membership' | 'chat' | 'other'

export function topicKind (topic: string): TopicKind {
  return topic === MEMBERSHIP_TOPIC ? 'membership' : topic.startsWith(CHAT_TOPIC_PREFIX) ? 'chat' : 'other'
}

export interface TopicBudget {
  ratePerSecond: number
  burst: number
}

/**
 * Membership: an honest relay forwards at most every member's heartbeat once, one a second
 * each at the default interval: about 100 a second in a 100-node mesh, plus the suspect and
 * dead claims a failure sets off (one per member that notices). Two and a half times that,
 * with two seconds' worth at once, leaves room for jitter that bunches heartbeats and for a
 * mesh of 250 members before an honest relay would meet the limit; a flood of 10,000 is cut
 * to its 500th message plus 250 a second.
 */
export const MEMBERSHIP_BUDGET: TopicBudget = { ratePerSecond: 250, burst: 500 }

/**
 * A chat room: a relay forwards the room's whole traffic. A node stores about 400 messages a
 * second at most on this project's machine (`bench:chat` capacity), so a peer handing over
 * more than 1,000 a second is beyond what the node could take anyway; what a budget drop
 * ever cost an honest peer, anti-entropy pulls again.
 */
export const CHAT_ROOM_BUDGET: TopicBudget = { ratePerSecond: 1000, burst: 2000 }

/** Peer-topic buckets kept: far above 256 connections times a few topics; the oldest goes first. */
const MAX_BUCKETS = 4096

/**
 * Slices of work between turns of the event loop: a message that reaches verification costs
 * about 0.1 to 0.3 ms, one dropped here a few µs (its frame was decoded already), so a
 * slice is 16 verified messages or 256 dropped ones: a few ms.
 */
const SLICE_UNITS = 256
const UNITS_PER_VERIFIED = 16
const UNITS_PER_DROPPED = 1

/** How often one peer's drops are logged, with the count since the last line. */
const LOG_EVERY_MS = 5000
const MAX_LOGGED_PEERS = 256

export interface GossipBudgetComponents {
  clock?: Pick<Clock, 'now'>
  logger?: MeshLogger
}

export interface GossipBudgetInit {
  membership?: TopicBudget
  chatRoom?: TopicBudget
  /** Called for every message dropped here. */
  onDropped?: (kind: TopicKind, reason: GossipDropReason) => void
}

/** The decision, per message: pass, or drop with a reason. Pure but for the clock. */
export class GossipBudget {
  private readonly membership: RateLimiter
  private readonly chatRoom: RateLimiter
  private readonly clock: Pick<Clock, 'now'>
  private readonly log: Log
  private readonly onDropped: (kind: TopicKind, reason: GossipDropReason) => void
  private readonly dropsToLog = new Map<string, { count: number, loggedAt: number }>()

  constructor (components: GossipBudgetComponents = {}, init: GossipBudgetInit = {}) {
    this.clock = components.clock ?? systemClock
    this.log = (components.logger ?? defaultLogger).forComponent('gossip')
    this.membership = new RateLimiter({ clock: this.clock }, { ...(init.membership ?? MEMBERSHIP_BUDGET), maxKeys: MAX_BUCKETS })
    this.chatRoom = new RateLimiter({ clock: this.clock }, { ...(init.chatRoom ?? CHAT_ROOM_BUDGET), maxKeys: MAX_BUCKETS })
    this.onDropped = init.onDropped ?? (() => {})
  }

  /** Whether a message on `topic` handed over by `peer` may go on; counts it against the peer's budget. */
  admit (peer: string, topic: string, subscribed: ReadonlySet<string>): GossipDropReason | undefined {
    // Gossipsub relays a topic only within the topic's mesh, which a node is in only when
    // subscribed: a message on any other topic would be verified for nothing.
    const reason = !subscribed.has(topic)
      ? 'not-subscribed'
      : (topicKind(topic) === 'membership' ? this.membership : this.chatRoom).tryTake(`${peer} ${topic}`) ? undefined : 'over-budget'
    if (reason != null) this.dropped(peer, topic, reason)
    return reason
  }

  private dropped (peer: string, topic: string, reason: GossipDropReason): void {
    this.onDropped(topicKind(topic), reason)
    if (!this.log.enabled) return
    const now = this.clock.now()
    const entry = this.dropsToLog.get(peer) ?? { count: 0, loggedAt: -Infinity }
    entry.count++
    if (now - entry.loggedAt >= LOG_EVERY_MS) {
      this.log('dropped %d gossip messages from %s (%s)', entry.count, peer, reason)
      entry.count = 0
      entry.loggedAt = now
    }
    this.dropsToLog.delete(peer)
    this.dropsToLog.set(peer, entry)
    if (this.dropsToLog.size > MAX_LOGGED_PEERS) this.dropsToLog.delete(this.dropsToLog.keys().next().value as string)
  }
}

/** The part of a decoded RPC this looks at; the rest is handed on untouched. */
interface ReceivedRpc {
  subscriptions: unknown[]
  messages: Array<{ topic: string }>
  control?: unknown
}

interface RpcHandling {
  handleReceivedRpc: (from: PeerId, rpc: ReceivedRpc) => Promise<void>
}

/**
 * Units of work each peer may have done per turn of the event loop: a peer that finds its
 * share spent waits for the next turn, in the order its RPCs came. Per peer, so a flooding
 * peer's queue never delays an honest peer's messages by more than the turn's own work.
 */
export class TurnGate {
  private readonly perTurn: number
  private readonly used = new Map<string, number>()
  private next?: Promise<void>

  constructor (perTurn: number) {
    this.perTurn = perTurn
  }

  /** Counts work `key` already had done (a drop), without waiting. */
  spend (key: string, units: number): void {
    this.used.set(key, (this.used.get(key) ?? 0) + units)
  }

  /** Waits for a turn in which `key` has room, then counts `units` against it. */
  async take (key: string, units: number): Promise<void> {
    while ((this.used.get(key) ?? 0) >= this.perTurn) await this.nextTurn()
    this.spend(key, units)
  }

  private async nextTurn (): Promise<void> {
    // Every count starts again at the next turn. The map holds the peers heard since
    // someone last waited, and a peer waits at the latest after a slice's work: it holds
    // the peers of the last few turns, at most the connected ones.
    this.next ??= new Promise(resolve => {
      setImmediate(() => { this.used.clear(); this.next = undefined; resolve() })
    })
    await this.next
  }
}

/**
 * Puts `budget` in front of `pubsub`'s handling of each received RPC: messages over budget
 * are taken out before gossipsub sees them, the rest is handed over in slices, at most a
 * slice's work per peer per turn of the event loop. Gossipsub exposes
 * `handleReceivedRpc` as the entry of every received RPC; it is wrapped on this one
 * instance. With gossipsub's `awaitRpcHandler` on, a peer's next RPC is read only when
 * this one is done, so a flooding peer waits in its own stream's flow-control window.
 */
export function installGossipBudget (pubsub: GossipSub, budget: GossipBudget): void {
  const handling = pubsub as unknown as RpcHandling
  const original = handling.handleReceivedRpc.bind(pubsub)
  const turns = new TurnGate(SLICE_UNITS)
  const slice = SLICE_UNITS / UNITS_PER_VERIFIED
  handling.handleReceivedRpc = async (from, rpc) => {
    const messages = rpc.messages ?? []
    if (messages.length === 0) { await original(from, rpc); return }
    const peer = from.toString()
    const subscribed = new Set(pubsub.getTopics())
    const kept = messages.filter(m => budget.admit(peer, m.topic, subscribed) == null)
    turns.spend(peer, (messages.length - kept.length) * UNITS_PER_DROPPED)
    if (kept.length === 0) {
      if ((rpc.subscriptions ?? []).length > 0 || rpc.control != null) await original(from, { ...rpc, messages: [] })
      // A burst of frames that are all dropped still takes a turn every slice's worth, so
      // decoding a backlog of them does not hold the event loop either.
      await turns.take(peer, 0)
      return
    }
    for (let i = 0; i < kept.length; i += slice) {
      const part = kept.slice(i, i + slice)
      await turns.take(peer, part.length * UNITS_PER_VERIFIED)
      // Subscriptions with the first slice, control messages (IHAVE, GRAFT…) with the last,
      // as gossipsub handles them in that order.
      await original(from, { subscriptions: i === 0 ? rpc.subscriptions : [], messages: part, control: i + slice >= kept.length ? rpc.control : undefined })
    }
  }
}
