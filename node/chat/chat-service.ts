import { EventEmitter } from 'node:events'
import type { Message } from '@libp2p/gossipsub'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { PrivateKey } from '@libp2p/interface'
import {
  MAX_FUTURE_SKEW_MS, CHAT_WIRE_VERSION, ChatKeyCache, chatTopic, checkRoom, decodeChatMessage, DEFAULT_ROOM,
  encodeChatMessage, InvalidChatMessageError, pushItem, roomOfTopic, signChatMessage, verifyChatSignature,
  type ChatMessage
} from '../../protocols/chat/index.ts'
import { defaultLogger, type Log, type MeshLogger } from '../logging/logger.ts'
import { TRANSIENT_ROLE, type MemberTransition } from '../membership/member.ts'
import type { MeshMetrics } from '../metrics/metrics.ts'
import type { MeshDatabase } from '../store/database.ts'
import { systemClock, type Clock } from '../time/clock.ts'
import { AntiEntropy } from './anti-entropy.ts'
import type { ChatEvents } from './chat-events.ts'
import { ChatPush } from './chat-push.ts'
import { ChatStore, dmConversation, type StoredMessage } from './chat-store.ts'
import type { ChatLibp2p, ChatMembers, MemberChangeEvent, MemberChanges } from './dependencies.ts'
import { DirectMessages } from './direct-messages.ts'
import { HybridClock } from './hlc-clock.ts'
import { PeerDirectory } from './peer-directory.ts'
import { RateLimiter } from '../limits/rate-limiter.ts'

export interface ChatComponents {
  libp2p: ChatLibp2p
  metrics: MeshMetrics
  db: MeshDatabase
  /** Who is in the mesh: nicks to resolve and label, addresses to reach a DM's recipient. */
  members: ChatMembers
  /** Joins, leaves and losses: the chat's notices, and a returning DM recipient. */
  memberChanges: MemberChanges
  /** The node's identity key: every message is signed with it. */
  privateKey: PrivateKey
  clock?: Clock
  logger?: MeshLogger
}

export interface ChatInit {
  nick: string
  random?: () => number
  syncIntervalMs?: number
  /** Messages per second one author may send; ours are paced to it, others' dropped above twice it. */
  sendRatePerSecond?: number
  /** Push room messages when that reaches every member (the default), or always use gossip. */
  push?: boolean
}

/** 50 messages a second per person is beyond any typist and enough for scripts. */
const DEFAULT_SEND_RATE = 50
/** Sends waiting for their turn; beyond this `send` fails at once instead of queueing more. */
const MAX_QUEUED_SENDS = 5000
/** Ids of recently received room messages, so a second copy is not verified again. */
const RECENT_IDS = 8192
/** The member states in which a peer should get a room message at once. */
const REACHABLE_STATES: ReadonlySet<string> = new Set(['alive', 'suspect'])
/** The membership changes shown as notices in the chat. */
const NOTICE_EVENTS: MemberChangeEvent[] = ['member:join', 'member:dead', 'member:leave']

export class ChatBusyError extends Error {
  override name = 'ChatBusyError'
}

/** The recipient refused a direct message as invalid: it is kept, and never sent again. */
export class DirectMessageRefusedError extends Error {
  override name = 'DirectMessageRefusedError'
}

/**
 * Chat without a server: rooms are gossip topics, messages are signed by their author,
 * timestamped by a hybrid logical clock, stored once by content id and shown in (ts, lc, id)
 * order; anti-entropy fills what gossip missed; direct messages go point to point through a
 * persistent outbox.
 */
export class ChatService extends EventEmitter<ChatEvents> {
  readonly store: ChatStore
  readonly peers: PeerDirectory
  private readonly hlc: HybridClock
  private readonly libp2p: ChatLibp2p
  private readonly metrics: MeshMetrics
  private readonly memberChanges: MemberChanges
  private readonly privateKey: PrivateKey
  private readonly clock: Clock
  private readonly log: Log
  private readonly nick: string
  /** Parsed keys of this node and its senders; this node's own, shared with no other. */
  private readonly keys = new ChatKeyCache()
  private readonly joined = new Set<string>()
  private readonly antiEntropy: AntiEntropy
  private readonly dms: DirectMessages
  private readonly push: ChatPush
  private readonly members: ChatMembers
  private readonly pushEnabled: boolean
  /** Ids received by push or gossip lately, oldest first: a duplicate is dropped before its signature check. */
  private readonly recentIds = new Set<string>()
  private readonly sendPace: RateLimiter
  private readonly receiveLimit: RateLimiter
  /** Messages the validator decoded, so delivery does not decode them again. */
  private readonly validated = new WeakMap<Message, ChatMessage>()
  /** What push and gossip delivered in this event-loop turn, stored together by `flushGossip`. */
  private gossipBatch: Array<{ message: ChatMessage, via: 'gossip' | 'push' }> = []
  private flushScheduled?: NodeJS.Immediate
  private sendChain: Promise<unknown> = Promise.resolve()
  private queuedSends = 0
  /** Made by `start`, aborted by `stop` (it ends sends waiting for their turn): undefined while stopped. */
  private controller?: AbortController

  constructor (components: ChatComponents, init: ChatInit) {
    super()
    this.libp2p = components.libp2p
    this.metrics = components.metrics
    this.memberChanges = components.memberChanges
    this.members = components.members
    this.pushEnabled = init.push ?? true
    this.privateKey = components.privateKey
    this.clock = components.clock ?? systemClock
    const logger = components.logger ?? defaultLogger
    this.log = logger.forComponent('chat')
    this.nick = init.nick
    this.store = new ChatStore(components.db)
    this.peers = new PeerDirectory({ members: components.members, store: this.store })
    this.hlc = new HybridClock({ clock: this.clock })
    const own = this.store.latestOwnHlc(this.selfId)
    if (own != null) this.hlc.observe(own)
    const rate = init.sendRatePerSecond ?? DEFAULT_SEND_RATE
    this.sendPace = new RateLimiter({ clock: this.clock }, { ratePerSecond: rate, burst: rate })
    // Twice our own pace: an honest peer's bursts, bunched by the network, always pass.
    this.receiveLimit = new RateLimiter({ clock: this.clock }, { ratePerSecond: rate * 2, burst: rate * 4 })
    this.antiEntropy = new AntiEntropy({ libp2p: this.libp2p, store: this.store, metrics: this.metrics, clock: this.clock, logger }, {
      accept: async m => await this.acceptVerified(m, 'sync'),
      rooms: () => [...this.joined],
      intervalMs: init.syncIntervalMs,
      random: init.random
    })
    this.push = new ChatPush({ libp2p: this.libp2p, metrics: this.metrics, clock: this.clock, logger }, {
      receive: async (m, remote) => { await this.receivePushed(m, remote) },
      undelivered: messages => { for (const m of messages) void this.publish(m) }
    })
    this.dms = new DirectMessages({ libp2p: this.libp2p, store: this.store, metrics: this.metrics, members: components.members, memberChanges: this.memberChanges, clock: this.clock, logger }, {
      receive: async (m, remote) => { await this.receiveDm(m, remote) },
      random: init.random
    })
  }

  get selfId (): string {
    return this.libp2p.peerId.toString()
  }

  async start (): Promise<void> {
    if (this.controller != null) return
    this.controller = new AbortController()
    // Sync first: joining a room pulls its past from the members already in it.
    await this.antiEntropy.start()
    await this.dms.start()
    await this.push.start()
    const pubsub = this.libp2p.services.pubsub
    pubsub.addEventListener('message', this.onMessage)
    pubsub.addEventListener('subscription-change', this.onSubscriptionChange)
    for (const event of NOTICE_EVENTS) this.memberChanges.on(event, this.onMember)
    const rooms = this.store.rooms()
    for (const room of rooms.length > 0 ? rooms : [DEFAULT_ROOM]) this.join(room)
  }

  async stop (): Promise<void> {
    const controller = this.controller
    if (controller == null) return
    this.controller = undefined
    controller.abort()
    // Push first: what its streams hand over until they end still joins the last batch.
    await this.push.stop()
    this.flushGossip()
    const pubsub = this.libp2p.services.pubsub
    pubsub.removeEventListener('message', this.onMessage)
    pubsub.removeEventListener('subscription-change', this.onSubscriptionChange)
    for (const event of NOTICE_EVENTS) this.memberChanges.off(event, this.onMember)
    for (const room of this.joined) {
      pubsub.topicValidators.delete(chatTopic(room))
      try { pubsub.unsubscribe(chatTopic(room)) } catch {}
    }
    this.joined.clear()
    await this.antiEntropy.stop()
    await this.dms.stop()
    this.recentIds.clear()
  }

  rooms (): string[] {
    return [...this.joined].sort()
  }

  /**
   * Enters a room (persisted, so a restart rejoins it) and pulls its past from the members.
   * While stopped, only remembers it: `start` enters every remembered room.
   */
  join (room: string): void {
    checkRoom(room)
    if (this.joined.has(room)) return
    this.store.joinRoom(room, this.clock.now())
    if (this.controller == null) return
    const topic = chatTopic(room)
    const pubsub = this.libp2p.services.pubsub
    pubsub.topicValidators.set(topic, this.validate)
    pubsub.subscribe(topic)
    this.joined.add(room)
    for (const peer of pubsub.getSubscribers(topic)) this.antiEntropy.sync(peer, room)
  }

  leave (room: string): void {
    this.store.leaveRoom(room)
    if (!this.joined.delete(room)) return
    const pubsub = this.libp2p.services.pubsub
    try { pubsub.unsubscribe(chatTopic(room)) } catch {}
    pubsub.topicValidators.delete(chatTopic(room))
  }

  /** Says `text` in `room` (joining it first). Paced to the send rate; queued sends run in order. */
  async send (room: string, text: string): Promise<StoredMessage> {
    checkRoom(room)
    if (this.queuedSends >= MAX_QUEUED_SENDS) throw new ChatBusyError(`more than ${MAX_QUEUED_SENDS} messages are waiting to be sent`)
    this.queuedSends++
    const run = this.sendChain.then(async () => await this.sendNow(room, text))
    this.sendChain = run.catch(() => {})
    try {
      return await run
    } finally {
      this.queuedSends--
    }
  }

  /**
   * Sends a direct message; `delivered` false means it waits in the outbox for the peer.
   * Throws DirectMessageRefusedError when the peer refused it: it stays in our history,
   * but it is not delivered and will not be sent again.
   */
  async dm (target: string, text: string): Promise<{ message: StoredMessage, delivered: boolean }> {
    const { id: to, nick } = this.peers.resolve(target)
    if (to === this.selfId) throw new InvalidChatMessageError('to-self', 'a direct message goes to another peer, not to yourself')
    const hlc = this.hlc.tick()
    const message = await signChatMessage({ v: CHAT_WIRE_VERSION, room: '', to, from: this.selfId, nick: this.nick, ...hlc, seq: 0, text }, this.privateKey, this.keys)
    const stored = this.keep(message, 'local')
    const state = await this.dms.send(message)
    if (state === 'refused') throw new DirectMessageRefusedError(`${this.peers.label(to, nick)} refused the message as invalid; it will not be sent again`)
    return { message: stored ?? { ...message, conversation: dmConversation(to), receivedAt: this.clock.now() }, delivered: state === 'delivered' }
  }

  /** The last `limit` messages of a room, or of the DM conversation with a peer (`@nick`). */
  history (conversation: string, limit: number): StoredMessage[] {
    return this.store.history(conversation, limit)
  }

  private async sendNow (room: string, text: string): Promise<StoredMessage> {
    this.join(room)
    const wait = this.sendPace.waitMs(this.selfId)
    if (wait > 0) await this.clock.sleep(wait, this.controller?.signal)
    this.sendPace.tryTake(this.selfId)
    const hlc = this.hlc.tick()
    const seq = this.store.nextSeq(room, this.selfId)
    const message = await signChatMessage({ v: CHAT_WIRE_VERSION, room, to: null, from: this.selfId, nick: this.nick, ...hlc, seq, text }, this.privateKey, this.keys)
    const stored = this.keep(message, 'local') as StoredMessage
    const peers = this.libp2p.services.pubsub.getSubscribers(chatTopic(room))
    if (this.pushEnabled && peers.length > 0 && this.pushReachesEveryone(peers)) this.push.send(pushItem(message), peers)
    else await this.publish(message)
    return stored
  }

  /**
   * Whether pushing to the room's subscribers reaches every member: this node is connected
   * to every member that is alive (or suspect), and none of the subscribers refused a push
   * stream lately. Otherwise (a partial mesh, a partition before membership has declared
   * the other side dead, a peer without the push protocol) the message goes by gossip,
   * which relays it over the mesh; push and gossip for one message would only add copies.
   */
  private pushReachesEveryone (subscribers: Array<{ toString: () => string }>): boolean {
    const connected = new Set(this.libp2p.getConnections().map(c => c.remotePeer.toString()))
    for (const member of this.members.members()) {
      if (member.id === this.selfId || member.roles.includes(TRANSIENT_ROLE) || !REACHABLE_STATES.has(member.state)) continue
      if (!connected.has(member.id)) return false
    }
    return !subscribers.some(peer => this.push.unreachable(peer.toString()))
  }

  /** Hands a room message to gossipsub; with nobody to hand it to, anti-entropy delivers it later. */
  private async publish (message: ChatMessage): Promise<void> {
    try {
      await this.libp2p.services.pubsub.publish(chatTopic(message.room), encodeChatMessage(message))
    } catch (err: any) {
      // Nobody in the room yet (or the subscription exchange is not done): the message is
      // stored, and anti-entropy hands it to every member that connects.
      this.metrics.counter('mesh_chat_publish_deferred_total', 'messages left to anti-entropy because gossip had no peer').inc()
      this.log('publish to %s deferred: %s', message.room, err?.message)
    }
  }

  /** Stores a message that passed every check; emits it if new. */
  private keep (m: ChatMessage, via: string): StoredMessage | undefined {
    const conversation = m.to == null ? m.room : dmConversation(m.from === this.selfId ? m.to : m.from)
    const receivedAt = this.clock.now()
    if (!this.store.insert(m, conversation, receivedAt)) {
      this.duplicate(via)
      return undefined
    }
    return this.stored(m, conversation, receivedAt, via)
  }

  /** Keeps a room message from gossip or push with the others of this event-loop turn. */
  private keepFromGossip (m: ChatMessage, via: 'gossip' | 'push'): void {
    this.gossipBatch.push({ message: m, via })
    this.flushScheduled ??= setImmediate(this.flushGossip)
  }

  /** Remembers `id` as received; false if it was already. */
  private firstReceipt (id: string): boolean {
    if (this.recentIds.has(id)) return false
    this.recentIds.add(id)
    if (this.recentIds.size > RECENT_IDS) this.recentIds.delete(this.recentIds.values().next().value as string)
    return true
  }

  /**
   * A room message its author pushed to us: the author is the other end of the connection,
   * so one signature check (the author's) proves it; then it is stored with this turn's batch.
   */
  private async receivePushed (m: ChatMessage, remote: string): Promise<void> {
    this.metrics.counter('mesh_chat_push_received_total', 'chat messages received by push, duplicates included').inc()
    if (m.from !== remote) { this.dropped('push', 'forged-sender'); return }
    if (!this.joined.has(m.room)) { this.dropped('push', 'not-in-room'); return }
    if (this.recentIds.has(m.id)) { this.duplicate('push'); return }
    if (m.ts > this.clock.now() + MAX_FUTURE_SKEW_MS) {
      // Not stored, so anti-entropy offers it again once our clock has caught up.
      this.dropped('push', 'from-the-future')
      return
    }
    if (!this.receiveLimit.tryTake(m.from)) { this.dropped('push', 'rate-limited'); return }
    if (!await verifyChatSignature(m, this.keys)) { this.dropped('push', 'bad-signature'); return }
    if (!this.firstReceipt(m.id)) { this.duplicate('push'); return }
    this.keepFromGossip(m, 'push')
  }

  /**
   * Stores the gossip batch in one transaction: under load, messages arrive many to a turn,
   * and one commit per message was most of the cost of storing them.
   */
  private readonly flushGossip = (): void => {
    if (this.flushScheduled != null) clearImmediate(this.flushScheduled)
    this.flushScheduled = undefined
    const batch = this.gossipBatch
    this.gossipBatch = []
    if (batch.length === 0) return
    const receivedAt = this.clock.now()
    let fresh: boolean[]
    try {
      fresh = this.store.insertMany(batch.map(({ message }) => ({ message, conversation: message.room, receivedAt })))
    } catch (err: any) {
      // Not stored, so anti-entropy offers them again, and a copy by push or gossip is taken.
      for (const { message } of batch) this.recentIds.delete(message.id)
      this.log('%d chat message(s) not stored: %s', batch.length, err?.message)
      return
    }
    for (let i = 0; i < batch.length; i++) {
      const { message, via } = batch[i]
      if (fresh[i]) this.stored(message, message.room, receivedAt, via)
      else this.duplicate(via)
    }
  }

  /** What follows storing a new message: clocks, names, counts, listeners. */
  private stored (m: ChatMessage, conversation: string, receivedAt: number, via: string): StoredMessage {
    this.peers.remember(m.from, m.nick)
    if (m.from !== this.selfId) this.hlc.observe(m)
    this.metrics.counter('mesh_chat_messages_total', 'chat messages stored', ['via']).inc({ via })
    const stored = { ...m, conversation, receivedAt }
    this.emit('message', stored)
    return stored
  }

  private duplicate (via: string): void {
    this.metrics.counter('mesh_chat_duplicates_total', 'chat messages received again', ['via']).inc({ via })
  }

  /** Throws when `m` is dated further ahead of this node's clock than peers' clocks may drift. */
  private checkNotFromTheFuture (m: ChatMessage): void {
    if (m.ts > this.clock.now() + MAX_FUTURE_SKEW_MS) {
      throw new InvalidChatMessageError('from-the-future', `dated ${m.ts - this.clock.now()} ms ahead of this node's clock`)
    }
  }

  /** A message pulled by anti-entropy: relayed by a third party, so its signature decides. */
  private async acceptVerified (m: ChatMessage, via: string): Promise<boolean> {
    if (!this.joined.has(m.room)) return false
    // A node that was starved reads gossip and a sync answer in one go: what gossip brought
    // in this turn is stored first, so the pulled copy is not verified and kept a second time.
    if (this.gossipBatch.length > 0) {
      this.flushGossip()
      if (this.store.has(m.id)) {
        this.duplicate(via)
        return false
      }
    }
    try {
      this.checkNotFromTheFuture(m)
    } catch {
      // Not stored, so the next pull offers it again: once our clock has caught up, it counts.
      this.dropped(via, 'from-the-future')
      return false
    }
    if (!await verifyChatSignature(m, this.keys)) {
      this.dropped(via, 'bad-signature')
      return false
    }
    return this.keep(m, via) != null
  }

  private async receiveDm (m: ChatMessage, remote: string): Promise<void> {
    if (m.to !== this.selfId) throw new InvalidChatMessageError('wrong-recipient', 'this message is for another peer')
    if (m.from !== remote) throw new InvalidChatMessageError('forged-sender', `sent by ${remote}, claims ${m.from}`)
    this.checkNotFromTheFuture(m)
    if (!this.receiveLimit.tryTake(m.from)) throw new InvalidChatMessageError('rate-limited', 'too many messages from this peer')
    if (!await verifyChatSignature(m, this.keys)) throw new InvalidChatMessageError('bad-signature', 'signature does not match the sender')
    this.keep(m, 'dm')
  }

  /** Runs inside gossipsub before delivery or forwarding: what fails goes no further. */
  private readonly validate = async (_from: unknown, msg: Message): Promise<TopicValidatorResult> => {
    try {
      const m = decodeChatMessage(msg.data)
      if (m.to != null || m.room !== roomOfTopic(msg.topic)) throw new InvalidChatMessageError('wrong-room', 'message is not for this room')
      if (msg.type !== 'signed' || msg.from.toString() !== m.from) throw new InvalidChatMessageError('forged-sender', `published by ${msg.type === 'signed' ? msg.from.toString() : 'nobody'}, claims ${m.from}`)
      if (m.ts > this.clock.now() + MAX_FUTURE_SKEW_MS) {
        // Ignore, not Reject: the relaying peer's clock may differ from ours, and anti-entropy
        // offers the message again once our clock has caught up.
        this.dropped('gossip', 'from-the-future')
        return TopicValidatorResult.Ignore
      }
      if (!this.receiveLimit.tryTake(m.from)) {
        // Ignore, not Reject: the relaying peer is not to blame for the author's flood.
        this.dropped('gossip', 'rate-limited')
        return TopicValidatorResult.Ignore
      }
      if (!await verifyChatSignature(m, this.keys)) throw new InvalidChatMessageError('bad-signature', 'signature does not match the sender')
      this.validated.set(msg, m)
      return TopicValidatorResult.Accept
    } catch (err: any) {
      this.dropped('gossip', err instanceof InvalidChatMessageError ? err.reason : 'error')
      this.log('dropped a chat message: %s', err?.message)
      return TopicValidatorResult.Reject
    }
  }

  private readonly onMessage = (event: CustomEvent<Message>): void => {
    const room = roomOfTopic(event.detail.topic)
    if (room == null || !this.joined.has(room)) return
    try {
      const m = this.validated.get(event.detail) ?? decodeChatMessage(event.detail.data)
      this.firstReceipt(m.id)
      this.keepFromGossip(m, 'gossip')
    } catch (err: any) {
      this.log('chat message not stored: %s', err?.message)
    }
  }

  /** A peer subscribed to one of our rooms (it connected, or joined the room): pull from it. */
  private readonly onSubscriptionChange = (event: CustomEvent<{ peerId: any, subscriptions: Array<{ topic: string, subscribe: boolean }> }>): void => {
    for (const { topic, subscribe } of event.detail.subscriptions) {
      const room = roomOfTopic(topic)
      if (subscribe && room != null && this.joined.has(room)) this.antiEntropy.sync(event.detail.peerId, room)
    }
  }

  private readonly onMember = (t: MemberTransition): void => {
    // A node that came for one job and goes again is not news in a chat room.
    if (t.member.roles.includes(TRANSIENT_ROLE)) return
    const base = { peer: t.member.id, nick: t.member.nick, at: this.clock.now() }
    if (t.to === 'alive') this.emit('notice', { ...base, kind: 'joined' })
    else if (t.to === 'left') this.emit('notice', { ...base, kind: 'left' })
    else if (t.to === 'dead') this.emit('notice', { ...base, kind: 'lost', reason: t.cause === 'unreachable' ? 'unreachable' : 'no heartbeat' })
  }

  private dropped (via: string, reason: string): void {
    this.metrics.counter('mesh_chat_dropped_total', 'chat messages and frames dropped', ['via', 'reason']).inc({ via, reason })
  }
}
