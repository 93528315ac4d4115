import { EventEmitter } from 'node:events'
import type { Message } from '@libp2p/gossipsub'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { PrivateKey } from '@libp2p/interface'
import createDebug from 'debug'
import {
  CHAT_WIRE_VERSION, chatTopic, checkRoom, decodeChatMessage, DEFAULT_ROOM, encodeChatMessage,
  InvalidChatMessageError, roomOfTopic, signChatMessage, verifyChatSignature, type ChatMessage
} from '../../protocols/chat/index.ts'
import type { MeshLibp2p } from '../libp2p/create-libp2p.ts'
import type { MembershipService } from '../membership/membership-service.ts'
import type { MemberTransition } from '../membership/member.ts'
import type { MeshMetrics } from '../metrics/metrics.ts'
import type { MeshDatabase } from '../store/database.ts'
import { AntiEntropy } from './anti-entropy.ts'
import type { ChatEvents } from './chat-events.ts'
import { ChatStore, dmConversation, type StoredMessage } from './chat-store.ts'
import { DirectMessages } from './direct-messages.ts'
import { HybridClock } from './hlc-clock.ts'
import { PeerDirectory } from './peer-directory.ts'
import { RateLimiter } from './rate-limiter.ts'

export interface ChatComponents {
  libp2p: MeshLibp2p
  metrics: MeshMetrics
  db: MeshDatabase
  membership: MembershipService
  /** The node's identity key: every message is signed with it. */
  privateKey: PrivateKey
}

export interface ChatInit {
  nick: string
  now?: () => number
  random?: () => number
  syncIntervalMs?: number
  /** Messages per second one author may send; ours are paced to it, others' dropped above twice it. */
  sendRatePerSecond?: number
}

/** 50 messages a second per person is beyond any typist and enough for scripts. */
const DEFAULT_SEND_RATE = 50
/** Sends waiting for their turn; beyond this `send` fails at once instead of queueing more. */
const MAX_QUEUED_SENDS = 5000

export class ChatBusyError extends Error {
  override name = 'ChatBusyError'
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
  readonly clock: HybridClock
  private readonly libp2p: MeshLibp2p
  private readonly metrics: MeshMetrics
  private readonly membership: MembershipService
  private readonly privateKey: PrivateKey
  private readonly nick: string
  private readonly now: () => number
  private readonly joined = new Set<string>()
  private readonly antiEntropy: AntiEntropy
  private readonly dms: DirectMessages
  private readonly sendPace: RateLimiter
  private readonly receiveLimit: RateLimiter
  /** Messages the validator decoded, so delivery does not decode them again. */
  private readonly validated = new WeakMap<Message, ChatMessage>()
  private sendChain: Promise<unknown> = Promise.resolve()
  private queuedSends = 0
  private started = false
  private readonly log = createDebug('mesh:chat')

  constructor (components: ChatComponents, init: ChatInit) {
    super()
    this.libp2p = components.libp2p
    this.metrics = components.metrics
    this.membership = components.membership
    this.privateKey = components.privateKey
    this.nick = init.nick
    this.now = init.now ?? Date.now
    this.store = new ChatStore(components.db)
    this.peers = new PeerDirectory({ membership: this.membership, store: this.store })
    this.clock = new HybridClock({ now: this.now })
    const own = this.store.latestOwnHlc(this.selfId)
    if (own != null) this.clock.observe(own)
    const rate = init.sendRatePerSecond ?? DEFAULT_SEND_RATE
    this.sendPace = new RateLimiter({ ratePerSecond: rate, burst: rate, now: this.now })
    // Twice our own pace: an honest peer's bursts, bunched by the network, always pass.
    this.receiveLimit = new RateLimiter({ ratePerSecond: rate * 2, burst: rate * 4, now: this.now })
    this.antiEntropy = new AntiEntropy({ libp2p: this.libp2p, store: this.store, metrics: this.metrics }, {
      accept: async m => await this.acceptVerified(m, 'sync'),
      rooms: () => [...this.joined],
      intervalMs: init.syncIntervalMs,
      random: init.random
    })
    this.dms = new DirectMessages({ libp2p: this.libp2p, store: this.store, metrics: this.metrics, membership: this.membership }, {
      receive: async (m, remote) => { await this.receiveDm(m, remote) },
      now: this.now,
      random: init.random
    })
  }

  get selfId (): string {
    return this.libp2p.peerId.toString()
  }

  async start (): Promise<void> {
    if (this.started) return
    this.started = true
    const pubsub = this.libp2p.services.pubsub
    pubsub.addEventListener('message', this.onMessage)
    pubsub.addEventListener('subscription-change', this.onSubscriptionChange)
    for (const event of ['member:join', 'member:dead', 'member:leave'] as const) this.membership.on(event, this.onMember)
    const rooms = this.store.rooms()
    for (const room of rooms.length > 0 ? rooms : [DEFAULT_ROOM]) this.join(room)
    await this.antiEntropy.start()
    await this.dms.start()
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    const pubsub = this.libp2p.services.pubsub
    pubsub.removeEventListener('message', this.onMessage)
    pubsub.removeEventListener('subscription-change', this.onSubscriptionChange)
    for (const event of ['member:join', 'member:dead', 'member:leave'] as const) this.membership.off(event, this.onMember)
    for (const room of this.joined) {
      pubsub.topicValidators.delete(chatTopic(room))
      try { pubsub.unsubscribe(chatTopic(room)) } catch {}
    }
    this.joined.clear()
    await this.antiEntropy.stop()
    await this.dms.stop()
  }

  rooms (): string[] {
    return [...this.joined].sort()
  }

  /** Enters a room (persisted, so a restart rejoins it) and pulls its past from the members. */
  join (room: string): void {
    checkRoom(room)
    if (this.joined.has(room)) return
    const topic = chatTopic(room)
    const pubsub = this.libp2p.services.pubsub
    pubsub.topicValidators.set(topic, this.validate)
    pubsub.subscribe(topic)
    this.joined.add(room)
    this.store.joinRoom(room, this.now())
    for (const peer of pubsub.getSubscribers(topic)) this.antiEntropy.sync(peer, room)
  }

  leave (room: string): void {
    if (!this.joined.delete(room)) return
    const pubsub = this.libp2p.services.pubsub
    try { pubsub.unsubscribe(chatTopic(room)) } catch {}
    pubsub.topicValidators.delete(chatTopic(room))
    this.store.leaveRoom(room)
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

  /** Sends a direct message; `delivered` false means it waits in the outbox for the peer. */
  async dm (target: string, text: string): Promise<{ message: StoredMessage, delivered: boolean }> {
    const { id: to } = this.peers.resolve(target)
    if (to === this.selfId) throw new InvalidChatMessageError('to-self', 'a direct message goes to another peer, not to yourself')
    const hlc = this.clock.tick()
    const message = await signChatMessage({ v: CHAT_WIRE_VERSION, room: '', to, from: this.selfId, nick: this.nick, ...hlc, seq: 0, text }, this.privateKey)
    const stored = this.keep(message, 'local')
    const delivered = await this.dms.send(message)
    return { message: stored ?? { ...message, conversation: dmConversation(to), receivedAt: this.now() }, delivered }
  }

  /** The last `limit` messages of a room, or of the DM conversation with a peer (`@nick`). */
  history (conversation: string, limit: number): StoredMessage[] {
    return this.store.history(conversation, limit)
  }

  private async sendNow (room: string, text: string): Promise<StoredMessage> {
    this.join(room)
    const wait = this.sendPace.waitMs(this.selfId)
    if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
    this.sendPace.tryTake(this.selfId)
    const hlc = this.clock.tick()
    const seq = this.store.nextSeq(room, this.selfId)
    const message = await signChatMessage({ v: CHAT_WIRE_VERSION, room, to: null, from: this.selfId, nick: this.nick, ...hlc, seq, text }, this.privateKey)
    const stored = this.keep(message, 'local') as StoredMessage
    try {
      await this.libp2p.services.pubsub.publish(chatTopic(room), encodeChatMessage(message))
    } catch (err: any) {
      // Nobody in the room yet (or the subscription exchange is not done): the message is
      // stored, and anti-entropy hands it to every member that connects.
      this.metrics.counter('mesh_chat_publish_deferred_total', 'messages left to anti-entropy because gossip had no peer').inc()
      this.log('publish to %s deferred: %s', room, err?.message)
    }
    return stored
  }

  /** Stores a message that passed every check; emits it if new. */
  private keep (m: ChatMessage, via: string): StoredMessage | undefined {
    const conversation = m.to == null ? m.room : dmConversation(m.from === this.selfId ? m.to : m.from)
    const receivedAt = this.now()
    if (!this.store.insert(m, conversation, receivedAt)) {
      this.metrics.counter('mesh_chat_duplicates_total', 'chat messages received again', ['via']).inc({ via })
      return undefined
    }
    if (m.from !== this.selfId) this.clock.observe(m)
    this.metrics.counter('mesh_chat_messages_total', 'chat messages stored', ['via']).inc({ via })
    const stored = { ...m, conversation, receivedAt }
    this.emit('message', stored)
    return stored
  }

  /** A message pulled by anti-entropy: relayed by a third party, so its signature decides. */
  private async acceptVerified (m: ChatMessage, via: string): Promise<boolean> {
    if (!this.joined.has(m.room)) return false
    if (!await verifyChatSignature(m)) {
      this.dropped(via, 'bad-signature')
      return false
    }
    return this.keep(m, via) != null
  }

  private async receiveDm (m: ChatMessage, remote: string): Promise<void> {
    if (m.to !== this.selfId) throw new InvalidChatMessageError('wrong-recipient', 'this message is for another peer')
    if (m.from !== remote) throw new InvalidChatMessageError('forged-sender', `sent by ${remote}, claims ${m.from}`)
    if (!this.receiveLimit.tryTake(m.from)) throw new InvalidChatMessageError('rate-limited', 'too many messages from this peer')
    if (!await verifyChatSignature(m)) throw new InvalidChatMessageError('bad-signature', 'signature does not match the sender')
    this.keep(m, 'dm')
  }

  /** Runs inside gossipsub before delivery or forwarding: what fails goes no further. */
  private readonly validate = async (_from: unknown, msg: Message): Promise<TopicValidatorResult> => {
    try {
      const m = decodeChatMessage(msg.data)
      if (m.to != null || m.room !== roomOfTopic(msg.topic)) throw new InvalidChatMessageError('wrong-room', 'message is not for this room')
      if (msg.type !== 'signed' || msg.from.toString() !== m.from) throw new InvalidChatMessageError('forged-sender', `published by ${msg.type === 'signed' ? msg.from.toString() : 'nobody'}, claims ${m.from}`)
      if (!this.receiveLimit.tryTake(m.from)) {
        // Ignore, not Reject: the relaying peer is not to blame for the author's flood.
        this.dropped('gossip', 'rate-limited')
        return TopicValidatorResult.Ignore
      }
      if (!await verifyChatSignature(m)) throw new InvalidChatMessageError('bad-signature', 'signature does not match the sender')
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
      this.keep(this.validated.get(event.detail) ?? decodeChatMessage(event.detail.data), 'gossip')
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
    const base = { peer: t.member.id, nick: t.member.nick, at: this.now() }
    if (t.to === 'alive') this.emit('notice', { ...base, kind: 'joined' })
    else if (t.to === 'left') this.emit('notice', { ...base, kind: 'left' })
    else if (t.to === 'dead') this.emit('notice', { ...base, kind: 'lost', reason: t.cause === 'unreachable' ? 'unreachable' : 'no heartbeat' })
  }

  private dropped (via: string, reason: string): void {
    this.metrics.counter('mesh_chat_dropped_total', 'chat messages and frames dropped', ['via', 'reason']).inc({ via, reason })
  }
}
