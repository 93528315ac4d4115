import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import {
  CHAT_DM_PROTOCOL, CHAT_WIRE_VERSION, decodeChatMessage, decodeDmAck, encodeChatMessage,
  encodeDmAck, InvalidChatMessageError, MAX_ACK_FRAME_BYTES, MAX_CHAT_MESSAGE_BYTES, type ChatMessage
} from '../../protocols/chat/index.ts'
import type { MemberTransition } from '../membership/member.ts'
import { defaultLogger, type Log, type MeshLogger } from '../logging/logger.ts'
import type { MeshMetrics } from '../metrics/metrics.ts'
import { backoffDelay } from '../time/backoff.ts'
import { systemClock, type Clock, type Timer } from '../time/clock.ts'
import type { ChatStore, OutboxState } from './chat-store.ts'
import { withTimeout } from './clock-timeout.ts'
import type { ChatMembers, ChatStreams, MemberChanges } from './dependencies.ts'
import { FrameStream } from './stream-frames.ts'

export interface DirectMessagesComponents {
  libp2p: ChatStreams
  store: ChatStore
  metrics: MeshMetrics
  /** A recipient's last announced addresses, to reach it when no connection is open. */
  members: Pick<ChatMembers, 'member'>
  /** A recipient that comes (back) alive is tried at once. */
  memberChanges: MemberChanges
  clock?: Clock
  logger?: MeshLogger
}

export interface DirectMessagesInit {
  /**
   * Checks and stores a direct message that arrived from `remote`; resolves when it is
   * stored (the ack is sent after), throws InvalidChatMessageError to refuse it.
   */
  receive: (message: ChatMessage, remote: string) => Promise<void>
  random?: () => number
  /** How often the outbox looks for entries whose retry time has come. */
  retryTickMs?: number
}

/**
 * The outbox retries a recipient after about 1 s, 2 s, 4 s… up to a minute (never much
 * sooner: a too-early retry only costs a dial); a returning peer is tried at once.
 */
const RETRY_BACKOFF = { baseMs: 1000, capMs: 60_000, jitter: 'equal' } as const
const DEFAULT_RETRY_TICK_MS = 1000
/** Direct messages sent to one recipient per flush; the next flush continues. */
const FLUSH_BATCH = 100
const DIAL_TIMEOUT_MS = 5000
/** Refusals that a later try may get past: the sender keeps the message and retries. */
const RETRYABLE_REFUSALS: ReadonlySet<string> = new Set(['rate-limited', 'from-the-future'])

/**
 * Direct messages over `/mesh/chat-dm/1.0.0`: one signed message per stream, answered by an
 * acknowledgement once the recipient has stored it. Unacknowledged messages wait in the
 * persistent outbox and are retried with backoff, and at once when membership sees the
 * recipient come (back) alive, so a DM survives a restart of either side. A message the
 * recipient refuses as invalid stays in the outbox marked refused: sending it again cannot
 * help, and it must not pass for delivered.
 */
export class DirectMessages {
  private readonly libp2p: ChatStreams
  private readonly store: ChatStore
  private readonly metrics: MeshMetrics
  private readonly members: Pick<ChatMembers, 'member'>
  private readonly memberChanges: MemberChanges
  private readonly clock: Clock
  private readonly log: Log
  private readonly init: DirectMessagesInit
  private readonly random: () => number
  private readonly flushing = new Map<string, Promise<void>>()
  /**
   * Recipients that came (back) alive while a flush to them was running: that flush may be
   * failing on an address from before, and its failure sets a backoff of up to a minute, so
   * they get another flush as soon as it ends.
   */
  private readonly flushAgain = new Set<string>()
  /** Made by `start`, aborted by `stop`: undefined while stopped. */
  private controller?: AbortController
  private timer?: Timer

  constructor (components: DirectMessagesComponents, init: DirectMessagesInit) {
    this.libp2p = components.libp2p
    this.store = components.store
    this.metrics = components.metrics
    this.members = components.members
    this.memberChanges = components.memberChanges
    this.clock = components.clock ?? systemClock
    this.log = (components.logger ?? defaultLogger).forComponent('chat:dm')
    this.init = init
    this.random = init.random ?? Math.random
  }

  async start (): Promise<void> {
    if (this.controller != null) return
    const controller = new AbortController()
    this.controller = controller
    await this.libp2p.handle(CHAT_DM_PROTOCOL, (stream, connection) => { void this.serve(stream, connection, controller.signal) }, { maxInboundStreams: 8 })
    this.memberChanges.on('member:join', this.onJoin)
    this.memberChanges.on('member:update', this.onJoin)
    this.timer = this.clock.setInterval(() => { this.flushDue() }, this.init.retryTickMs ?? DEFAULT_RETRY_TICK_MS).unref()
    this.updateGauge()
  }

  async stop (): Promise<void> {
    const controller = this.controller
    if (controller == null) return
    this.controller = undefined
    this.timer?.clear()
    this.timer = undefined
    controller.abort()
    this.flushAgain.clear()
    this.memberChanges.off('member:join', this.onJoin)
    this.memberChanges.off('member:update', this.onJoin)
    await this.libp2p.unhandle(CHAT_DM_PROTOCOL).catch(() => {})
    await Promise.allSettled(this.flushing.values())
  }

  /** Queues a signed DM durably, then tries to deliver it now; says where it stands after. */
  async send (message: ChatMessage): Promise<OutboxState> {
    if (message.to == null) throw new TypeError('a direct message needs a recipient')
    this.store.queueDm(message.id, message.to, new TextDecoder().decode(encodeChatMessage(message)), this.clock.now())
    this.updateGauge()
    await this.flush(message.to)
    return this.store.outboxState(message.id)
  }

  /** Delivers everything queued for `recipient`, one flush per recipient at a time. */
  private flush (recipient: string): Promise<void> {
    const running = this.flushing.get(recipient)
    if (running != null) return running
    const signal = this.controller?.signal
    if (signal == null) return Promise.resolve()
    const flush = this.deliverQueued(recipient, signal).finally(() => {
      this.flushing.delete(recipient)
      this.updateGauge()
      if (this.flushAgain.delete(recipient) && !signal.aborted) void this.flush(recipient)
    })
    this.flushing.set(recipient, flush)
    return flush
  }

  private readonly onJoin = (t: MemberTransition): void => {
    if (t.to !== 'alive') return
    if (this.flushing.has(t.member.id)) this.flushAgain.add(t.member.id)
    else void this.flush(t.member.id)
  }

  private flushDue (): void {
    for (const recipient of this.store.recipientsDue(this.clock.now())) void this.flush(recipient)
  }

  private async deliverQueued (recipient: string, signal: AbortSignal): Promise<void> {
    for (const entry of this.store.queuedFor(recipient, FLUSH_BATCH)) {
      if (signal.aborted) return
      try {
        const ack = await this.deliver(recipient, entry.frame, signal)
        if (ack.ok) {
          this.store.markDelivered(entry.id)
          this.counted('delivered')
          continue
        }
        if (ack.reason === 'invalid') {
          this.store.markRefused(entry.id, ack.reason)
          this.counted('refused')
          this.log('dm %s refused by %s as invalid; not sending it again', entry.id, recipient)
          continue
        }
        throw new Error(`refused: ${ack.reason ?? 'no reason'}`)
      } catch (err: any) {
        if (signal.aborted) return
        const retryInMs = backoffDelay(entry.attempts + 1, { ...RETRY_BACKOFF, random: this.random })
        this.store.retryLater(entry.id, this.clock.now() + retryInMs)
        this.counted('retry')
        this.log('dm %s to %s not delivered (%s); retrying in %d ms', entry.id, recipient, err?.message, retryInMs)
        // One failure says the peer is away: leave the rest of its queue for the next try.
        return
      }
    }
  }

  private async deliver (recipient: string, frame: string, signal: AbortSignal): Promise<{ ok: boolean, reason?: string }> {
    const stream = await withTimeout(this.clock, DIAL_TIMEOUT_MS, signal, async s => await this.libp2p.dialProtocol(this.target(recipient), CHAT_DM_PROTOCOL, { signal: s }))
    const frames = new FrameStream(stream, { maxFrameBytes: MAX_ACK_FRAME_BYTES, clock: this.clock })
    try {
      await frames.write(new TextEncoder().encode(frame), signal)
      return decodeDmAck(await frames.read(signal))
    } finally {
      await frames.close()
    }
  }

  /** A connected peer by id; otherwise the addresses its last heartbeat announced. */
  private target (recipient: string): PeerId | Multiaddr[] {
    const peer = peerIdFromString(recipient)
    if (this.libp2p.getConnections(peer).length > 0) return peer
    const addrs = (this.members.member(recipient)?.addrs ?? []).flatMap(a => { try { return [multiaddr(a)] } catch { return [] } })
    return addrs.length > 0 ? addrs : peer
  }

  private async serve (stream: Stream, connection: Connection, signal: AbortSignal): Promise<void> {
    const frames = new FrameStream(stream, { maxFrameBytes: MAX_CHAT_MESSAGE_BYTES, clock: this.clock })
    let id = ''
    try {
      const message = decodeChatMessage(await frames.read(signal))
      id = message.id
      await this.init.receive(message, connection.remotePeer.toString())
      await frames.write(encodeDmAck({ v: CHAT_WIRE_VERSION, ok: true, id }), signal)
      await frames.close()
    } catch (err: any) {
      const reason = err instanceof InvalidChatMessageError ? err.reason : 'stream-error'
      this.metrics.counter('mesh_chat_dropped_total', 'chat messages and frames dropped', ['via', 'reason']).inc({ via: 'dm', reason })
      this.log('dm from %s refused: %s', connection.remotePeer.toString(), err?.message)
      if (err instanceof InvalidChatMessageError) {
        // Tell the sender when retrying cannot help; a rate limit or a clock ahead of ours is
        // worth a retry.
        const ackReason = RETRYABLE_REFUSALS.has(reason) ? reason : 'invalid'
        await frames.write(encodeDmAck({ v: CHAT_WIRE_VERSION, ok: false, id, reason: ackReason })).catch(() => {})
        await frames.close()
      } else {
        frames.abort(err)
      }
    }
  }

  private counted (outcome: 'delivered' | 'refused' | 'retry'): void {
    this.metrics.counter('mesh_chat_dm_total', 'direct messages sent, by outcome', ['outcome']).inc({ outcome })
  }

  private updateGauge (): void {
    this.metrics.gauge('mesh_chat_outbox', 'direct messages waiting for their recipient').set(this.store.waitingCount())
  }
}
