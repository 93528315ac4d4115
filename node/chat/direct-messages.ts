import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import createDebug from 'debug'
import {
  CHAT_DM_PROTOCOL, CHAT_WIRE_VERSION, decodeChatMessage, decodeDmAck, encodeChatMessage,
  encodeDmAck, InvalidChatMessageError, MAX_ACK_FRAME_BYTES, MAX_CHAT_MESSAGE_BYTES, type ChatMessage
} from '../../protocols/chat/index.ts'
import type { MeshLibp2p } from '../libp2p/create-libp2p.ts'
import type { MembershipService } from '../membership/membership-service.ts'
import type { MemberTransition } from '../membership/member.ts'
import type { MeshMetrics } from '../metrics/metrics.ts'
import type { ChatStore } from './chat-store.ts'
import { FrameStream } from './stream-frames.ts'

export interface DirectMessagesComponents {
  libp2p: MeshLibp2p
  store: ChatStore
  metrics: MeshMetrics
  membership: MembershipService
}

export interface DirectMessagesInit {
  /**
   * Checks and stores a direct message that arrived from `remote`; resolves when it is
   * stored (the ack is sent after), throws InvalidChatMessageError to refuse it.
   */
  receive: (message: ChatMessage, remote: string) => Promise<void>
  now?: () => number
  random?: () => number
  /** How often the outbox looks for entries whose retry time has come. */
  retryTickMs?: number
}

/** The outbox retries a recipient after 1 s, 2 s, 4 s… up to this; a returning peer is tried at once. */
const MAX_RETRY_MS = 60_000
const DEFAULT_RETRY_TICK_MS = 1000
/** Direct messages sent to one recipient per flush; the next flush continues. */
const FLUSH_BATCH = 100
const DIAL_TIMEOUT_MS = 5000

/**
 * Direct messages over `/mesh/chat-dm/1.0.0`: one signed message per stream, answered by an
 * acknowledgement once the recipient has stored it. Unacknowledged messages wait in the
 * persistent outbox and are retried with backoff, and at once when membership sees the
 * recipient come (back) alive, so a DM survives a restart of either side.
 */
export class DirectMessages {
  private readonly libp2p: MeshLibp2p
  private readonly store: ChatStore
  private readonly metrics: MeshMetrics
  private readonly membership: MembershipService
  private readonly init: DirectMessagesInit
  private readonly now: () => number
  private readonly random: () => number
  private readonly flushing = new Map<string, Promise<void>>()
  private readonly controller = new AbortController()
  private timer?: NodeJS.Timeout
  private readonly log = createDebug('mesh:chat:dm')

  constructor (components: DirectMessagesComponents, init: DirectMessagesInit) {
    this.libp2p = components.libp2p
    this.store = components.store
    this.metrics = components.metrics
    this.membership = components.membership
    this.init = init
    this.now = init.now ?? Date.now
    this.random = init.random ?? Math.random
  }

  async start (): Promise<void> {
    await this.libp2p.handle(CHAT_DM_PROTOCOL, (stream, connection) => { void this.serve(stream, connection) }, { maxInboundStreams: 8 })
    this.membership.on('member:join', this.onJoin)
    this.membership.on('member:update', this.onJoin)
    this.timer = setInterval(() => { this.flushDue() }, this.init.retryTickMs ?? DEFAULT_RETRY_TICK_MS)
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
    this.controller.abort()
    this.membership.off('member:join', this.onJoin)
    this.membership.off('member:update', this.onJoin)
    await this.libp2p.unhandle(CHAT_DM_PROTOCOL).catch(() => {})
    await Promise.allSettled(this.flushing.values())
  }

  /** Queues a signed DM durably, then tries to deliver it now. True if it was acknowledged. */
  async send (message: ChatMessage): Promise<boolean> {
    if (message.to == null) throw new TypeError('a direct message needs a recipient')
    this.store.queueDm(message.id, message.to, new TextDecoder().decode(encodeChatMessage(message)), this.now())
    this.updateGauge()
    await this.flush(message.to)
    return !this.store.pendingIds().has(message.id)
  }

  /** Delivers everything queued for `recipient`, one flush per recipient at a time. */
  flush (recipient: string): Promise<void> {
    const running = this.flushing.get(recipient)
    if (running != null) return running
    const flush = this.deliverQueued(recipient).finally(() => { this.flushing.delete(recipient); this.updateGauge() })
    this.flushing.set(recipient, flush)
    return flush
  }

  private readonly onJoin = (t: MemberTransition): void => {
    if (t.to === 'alive') void this.flush(t.member.id)
  }

  private flushDue (): void {
    for (const recipient of this.store.recipientsDue(this.now())) void this.flush(recipient)
  }

  private async deliverQueued (recipient: string): Promise<void> {
    for (const entry of this.store.queuedFor(recipient, FLUSH_BATCH)) {
      if (this.controller.signal.aborted) return
      try {
        const ack = await this.deliver(recipient, entry.frame)
        if (ack.ok || ack.reason === 'invalid') {
          // Refused as invalid: retrying cannot help; keep it in our history, stop sending.
          this.store.markDelivered(entry.id)
          this.metrics.counter('mesh_chat_dm_total', 'direct messages sent, by outcome', ['outcome']).inc({ outcome: ack.ok ? 'delivered' : 'refused' })
          continue
        }
        throw new Error(`refused: ${ack.reason ?? 'no reason'}`)
      } catch (err: any) {
        const backoff = Math.min(MAX_RETRY_MS, 1000 * 2 ** Math.min(entry.attempts, 16))
        this.store.retryLater(entry.id, this.now() + backoff * (0.5 + this.random()))
        this.metrics.counter('mesh_chat_dm_total', 'direct messages sent, by outcome', ['outcome']).inc({ outcome: 'retry' })
        this.log('dm %s to %s not delivered (%s); retrying later', entry.id, recipient, err?.message)
        // One failure says the peer is away: leave the rest of its queue for the next try.
        return
      }
    }
  }

  private async deliver (recipient: string, frame: string): Promise<{ ok: boolean, reason?: string }> {
    const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(DIAL_TIMEOUT_MS)])
    const stream = await this.libp2p.dialProtocol(this.target(recipient), CHAT_DM_PROTOCOL, { signal })
    const frames = new FrameStream(stream, MAX_ACK_FRAME_BYTES)
    try {
      await frames.write(new TextEncoder().encode(frame), this.controller.signal)
      return decodeDmAck(await frames.read(this.controller.signal))
    } finally {
      await frames.close()
    }
  }

  /** A connected peer by id; otherwise the addresses its last heartbeat announced. */
  private target (recipient: string): PeerId | Multiaddr[] {
    const peer = peerIdFromString(recipient)
    if (this.libp2p.getConnections(peer).length > 0) return peer
    const addrs = (this.membership.table.get(recipient)?.addrs ?? []).flatMap(a => { try { return [multiaddr(a)] } catch { return [] } })
    return addrs.length > 0 ? addrs : peer
  }

  private async serve (stream: Stream, connection: Connection): Promise<void> {
    const frames = new FrameStream(stream, MAX_CHAT_MESSAGE_BYTES)
    let id = ''
    try {
      const message = decodeChatMessage(await frames.read(this.controller.signal))
      id = message.id
      await this.init.receive(message, connection.remotePeer.toString())
      await frames.write(encodeDmAck({ v: CHAT_WIRE_VERSION, ok: true, id }), this.controller.signal)
      await frames.close()
    } catch (err: any) {
      const reason = err instanceof InvalidChatMessageError ? err.reason : 'stream-error'
      this.metrics.counter('mesh_chat_dropped_total', 'chat messages and frames dropped', ['via', 'reason']).inc({ via: 'dm', reason })
      this.log('dm from %s refused: %s', connection.remotePeer.toString(), err?.message)
      if (err instanceof InvalidChatMessageError) {
        // Tell the sender when retrying cannot help; a rate limit is worth a retry.
        const ackReason = reason === 'rate-limited' ? reason : 'invalid'
        await frames.write(encodeDmAck({ v: CHAT_WIRE_VERSION, ok: false, id, reason: ackReason })).catch(() => {})
        await frames.close()
      } else {
        frames.abort(err)
      }
    }
  }

  private updateGauge (): void {
    this.metrics.gauge('mesh_chat_outbox', 'direct messages waiting for their recipient').set(this.store.pendingIds().size)
  }
}
