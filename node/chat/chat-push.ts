import type { Connection, PeerId, Stream } from '@libp2p/interface'
import {
  CHAT_PUSH_PROTOCOL, decodePushFrame, InvalidChatMessageError, MAX_PUSH_FRAME_BYTES, PUSH_IDLE_CLOSE_MS,
  PUSH_READ_TIMEOUT_MS, takePushFrame, type ChatMessage, type DecodedPushFrame, type PushItem
} from '../../protocols/chat/index.ts'
import { RateLimiter } from '../limits/rate-limiter.ts'
import { TurnGate } from '../libp2p/gossip-budget.ts'
import { defaultLogger, type Log, type MeshLogger } from '../logging/logger.ts'
import type { MeshMetrics } from '../metrics/metrics.ts'
import { systemClock, type Clock, type Timer } from '../time/clock.ts'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import { withTimeout } from './clock-timeout.ts'
import type { ChatStreams } from './dependencies.ts'

export interface ChatPushComponents {
  libp2p: Pick<ChatStreams, 'handle' | 'unhandle' | 'dialProtocol'>
  metrics: MeshMetrics
  clock?: Clock
  logger?: MeshLogger
}

export interface PushBudget {
  /** Frames one peer may push per second, and at once after a quiet spell. */
  framesPerSecond: number
  frameBurst: number
  /** KiB one peer may push per second, and at once. */
  kibPerSecond: number
  kibBurst: number
}

export interface ChatPushInit {
  /**
   * Checks and keeps one pushed message that came from `remote` (the author: nobody else
   * pushes it); what fails is counted there.
   */
  receive: (message: ChatMessage, remote: string) => Promise<void>
  /** Messages a peer did not get by push (its stream failed): the caller sends them another way. */
  undelivered: (messages: ChatMessage[]) => void
  budget?: PushBudget
}

/**
 * An honest author pushes at most its send pace (50 messages a second by default) in at most
 * as many frames, each message at most 32 KiB on the wire: four times that in frames, and
 * 2 MiB a second (4 MiB at once) in bytes, leave room for bursts bunched by the network
 * while bounding what a hostile peer makes this node parse.
 */
export const PUSH_BUDGET: PushBudget = { framesPerSecond: 200, frameBurst: 400, kibPerSecond: 2048, kibBurst: 4096 }

/**
 * Whether room messages go by push when they can. With the test hooks on,
 * `MESH_CHAT_PATH=gossip` sends them by gossip only, so `bench:chat --chat-path gossip` weighs
 * both paths with the same code on the same machine.
 */
export function chatPushEnabled (env: NodeJS.ProcessEnv = process.env): boolean {
  return !(env.MESH_TEST_HOOKS === '1' && env.MESH_CHAT_PATH === 'gossip')
}

/** Messages waiting for one peer's stream; beyond it they are left to anti-entropy. */
const MAX_QUEUED_PER_PEER = 2048
/** Peers remembered as unable to take a push stream; the oldest is forgotten first. */
const MAX_FAILED_PEERS = 4096
/** Opening a stream on the existing connection: milliseconds on a LAN, seconds when starved. */
const OPEN_TIMEOUT_MS = 5000
/** A write that does not finish within this is a dead stream. */
const WRITE_TIMEOUT_MS = 5000
/** After a peer could not take a push stream, it is not tried again for this long. */
const RETRY_AFTER_FAILURE_MS = 30_000
/**
 * Work per peer per turn of the event loop, as in gossip-budget.ts: a verified message costs
 * 16 units, a frame dropped before decoding 1, so a flooding peer yields the loop every 16
 * verified messages and the other peers' frames and the control socket are served between.
 */
const UNITS_PER_TURN = 256
const UNITS_PER_MESSAGE = 16
const UNITS_PER_DROPPED_FRAME = 1

/**
 * How often idle streams are looked for: an author's unused for PUSH_IDLE_CLOSE_MS are
 * closed, a peer's silent for PUSH_READ_TIMEOUT_MS aborted. One timer for all streams
 * instead of one per read or write: a frame costs no timer and no composite signal.
 */
const SWEEP_INTERVAL_MS = 5000

/** An author's stream to one peer and the messages waiting for it. */
interface OutboundLink {
  peer: PeerId
  queue: PushItem[]
  stream?: Stream
  draining?: Promise<void>
  lastUsed: number
}

/** A peer's push stream being read, and when its last frame came. */
interface InboundLink {
  stream: Stream
  lp: LengthPrefixedStream<Stream>
  lastFrameAt: number
}

/**
 * `/mesh/chat-push/1.0.0`: each author hands its room messages straight to every member it
 * is connected to, over one long-lived stream per peer. Messages sent in one turn of the
 * event loop, or while the previous frame was being written, share a frame: one Noise
 * record, one yamux frame and one JSON parse for the lot at the receiver, instead of a
 * gossip frame per copy with its envelope signature. Inbound, each peer has one stream at a
 * time, a budget of frames and bytes, and bounded reads; what breaks a rule is dropped and
 * counted in `mesh_chat_dropped_total{via="push"}`.
 */
export class ChatPush {
  private readonly libp2p: ChatPushComponents['libp2p']
  private readonly metrics: MeshMetrics
  private readonly clock: Clock
  private readonly log: Log
  private readonly init: ChatPushInit
  private readonly frameBudget: RateLimiter
  private readonly byteBudget: RateLimiter
  private readonly turns = new TurnGate(UNITS_PER_TURN)
  private readonly outbound = new Map<string, OutboundLink>()
  /** Per peer, the inbound stream being read: a newer one replaces it. */
  private readonly inbound = new Map<string, InboundLink>()
  /** Peers that could not take a push stream, until when they are not tried again. */
  private readonly failedUntil = new Map<string, number>()
  private controller?: AbortController
  private sweeper?: Timer

  constructor (components: ChatPushComponents, init: ChatPushInit) {
    this.libp2p = components.libp2p
    this.metrics = components.metrics
    this.clock = components.clock ?? systemClock
    this.log = (components.logger ?? defaultLogger).forComponent('chat:push')
    this.init = init
    const budget = init.budget ?? PUSH_BUDGET
    this.frameBudget = new RateLimiter({ clock: this.clock }, { ratePerSecond: budget.framesPerSecond, burst: budget.frameBurst, maxKeys: 4096 })
    this.byteBudget = new RateLimiter({ clock: this.clock }, { ratePerSecond: budget.kibPerSecond, burst: budget.kibBurst, maxKeys: 4096 })
  }

  async start (): Promise<void> {
    if (this.controller != null) return
    const controller = new AbortController()
    this.controller = controller
    // Two per connection: an author whose stream broke opens the next one before this side
    // has seen the old one end; `serve` keeps only the newest per peer.
    await this.libp2p.handle(CHAT_PUSH_PROTOCOL, (stream, connection) => { void this.serve(stream, connection, controller.signal) }, { maxInboundStreams: 2 })
    this.sweeper = this.clock.setInterval(() => { this.closeIdle() }, SWEEP_INTERVAL_MS).unref()
  }

  async stop (): Promise<void> {
    const controller = this.controller
    if (controller == null) return
    this.controller = undefined
    this.sweeper?.clear()
    this.sweeper = undefined
    controller.abort()
    await this.libp2p.unhandle(CHAT_PUSH_PROTOCOL).catch(() => {})
    const draining = [...this.outbound.values()].flatMap(l => l.draining ?? [])
    await Promise.allSettled(draining)
    for (const link of this.outbound.values()) link.stream?.abort(new Error('chat stopped'))
    this.outbound.clear()
    for (const link of this.inbound.values()) link.stream.abort(new Error('chat stopped'))
    this.inbound.clear()
    this.failedUntil.clear()
  }

  /** Whether `peer` recently failed to take a push stream (so it must be reached another way). */
  unreachable (peer: string): boolean {
    const until = this.failedUntil.get(peer)
    if (until == null) return false
    if (until > this.clock.now()) return true
    this.failedUntil.delete(peer)
    return false
  }

  /** Queues `item` for each of `peers`; the frames leave at the end of this turn. */
  send (item: PushItem, peers: PeerId[]): void {
    if (this.controller == null) return
    for (const peer of peers) {
      const key = peer.toString()
      let link = this.outbound.get(key)
      if (link == null) {
        link = { peer, queue: [], lastUsed: this.clock.now() }
        this.outbound.set(key, link)
      }
      if (link.queue.length >= MAX_QUEUED_PER_PEER) {
        // A peer this far behind gets the rest by anti-entropy, which it pulls at its pace.
        this.metrics.counter('mesh_chat_push_skipped_total', 'messages not pushed to a peer whose queue was full').inc()
        continue
      }
      link.queue.push(item)
      link.draining ??= this.drain(link)
    }
  }

  /** Writes a link's queue a frame at a time; what is queued meanwhile goes in the next frame. */
  private async drain (link: OutboundLink): Promise<void> {
    const signal = this.controller?.signal
    // The rest of this turn's messages join the first frame.
    await new Promise(resolve => setImmediate(resolve))
    const key = link.peer.toString()
    try {
      while (link.queue.length > 0 && signal != null && !signal.aborted) {
        if (link.stream == null) {
          try {
            link.stream = await this.open(link.peer, signal)
          } catch (err: any) {
            if (signal.aborted) return
            this.failedUntil.delete(key)
            this.failedUntil.set(key, this.clock.now() + RETRY_AFTER_FAILURE_MS)
            if (this.failedUntil.size > MAX_FAILED_PEERS) this.failedUntil.delete(this.failedUntil.keys().next().value as string)
            this.failed(link, link.queue.splice(0), 'open', err)
            return
          }
        }
        const { wire, items } = takePushFrame(link.queue)
        try {
          // One write of the prefixed frame; only a full send buffer makes it wait.
          if (!link.stream.send(wire)) await this.drained(link.stream, signal)
          this.metrics.counter('mesh_chat_push_frames_total', 'chat push frames, by direction', ['direction']).inc({ direction: 'out' })
        } catch (err: any) {
          link.stream.abort(err)
          link.stream = undefined
          if (signal.aborted) return
          this.failed(link, [...items, ...link.queue.splice(0)], 'write', err)
          return
        }
      }
    } finally {
      link.draining = undefined
      link.lastUsed = this.clock.now()
      // Messages queued after the loop saw an empty queue but before this ran.
      if (link.queue.length > 0 && signal != null && !signal.aborted) link.draining = this.drain(link)
    }
  }

  private async open (peer: PeerId, signal: AbortSignal): Promise<Stream> {
    return await withTimeout(this.clock, OPEN_TIMEOUT_MS, signal, async s => await this.libp2p.dialProtocol(peer, CHAT_PUSH_PROTOCOL, { signal: s }))
  }

  /** Waits until `stream` takes data again; a stream that does not within WRITE_TIMEOUT_MS is dead. */
  private async drained (stream: Stream, signal: AbortSignal): Promise<void> {
    await withTimeout(this.clock, WRITE_TIMEOUT_MS, signal, async s => {
      await new Promise<void>((resolve, reject) => {
        const fail = (): void => { reject(s.reason ?? new Error('push stream closed')) }
        stream.addEventListener('drain', () => { resolve() }, { once: true, signal: s })
        stream.addEventListener('close', fail, { once: true, signal: s })
        s.addEventListener('abort', fail, { once: true })
      })
    })
  }

  private failed (link: OutboundLink, items: PushItem[], step: string, err: any): void {
    this.metrics.counter('mesh_chat_push_failures_total', 'push streams that could not be opened or written', ['step']).inc({ step })
    this.log('push to %s failed (%s): %s; %d message(s) sent another way', link.peer.toString(), step, err?.message, items.length)
    if (items.length > 0) this.init.undelivered(items.map(i => i.message))
  }

  private closeIdle (): void {
    const now = this.clock.now()
    for (const [key, link] of this.outbound) {
      if (link.draining != null || now - link.lastUsed < PUSH_IDLE_CLOSE_MS) continue
      this.outbound.delete(key)
      const stream = link.stream
      if (stream != null) void stream.close().catch(() => { stream.abort(new Error('close failed')) })
    }
    for (const link of this.inbound.values()) {
      // Silent past the read timeout, mid-frame or not: the read fails, `serve` cleans up.
      if (now - link.lastFrameAt >= PUSH_READ_TIMEOUT_MS) link.stream.abort(new Error('push stream silent too long'))
    }
  }

  private async serve (stream: Stream, connection: Connection, signal: AbortSignal): Promise<void> {
    const peer = connection.remotePeer.toString()
    const link: InboundLink = { stream, lp: lpStream(stream, { maxDataLength: MAX_PUSH_FRAME_BYTES }), lastFrameAt: this.clock.now() }
    // One stream per peer: a newer one (the author's old one broke, or a peer opening many)
    // replaces the one being read.
    this.inbound.get(peer)?.stream.abort(new Error('replaced by a newer push stream'))
    this.inbound.set(peer, link)
    try {
      while (!signal.aborted && this.inbound.get(peer) === link) {
        let bytes: Uint8Array
        try {
          bytes = (await link.lp.read({ signal })).subarray()
        } catch (err: any) {
          // A frame longer than the limit cannot be skipped: the stream goes, the author opens another.
          const replaced = this.inbound.get(peer) !== link
          if (/Length/.test(err?.name ?? '')) this.dropped('too-large')
          else if (!signal.aborted && !replaced && !isEndOfStream(err)) this.dropped('stream-error')
          stream.abort(err)
          return
        }
        link.lastFrameAt = this.clock.now()
        await this.frame(peer, bytes)
      }
    } finally {
      if (this.inbound.get(peer) === link) this.inbound.delete(peer)
    }
  }

  /** One frame from `peer`: budget, decode, then each message to the chat's checks. */
  private async frame (peer: string, bytes: Uint8Array): Promise<void> {
    if (!this.frameBudget.tryTake(peer) || !this.byteBudget.tryTake(peer, Math.ceil(bytes.byteLength / 1024))) {
      this.dropped('over-budget')
      // A burst of frames all dropped still yields the loop every turn's worth.
      await this.turns.take(peer, UNITS_PER_DROPPED_FRAME)
      return
    }
    this.metrics.counter('mesh_chat_push_frames_total', 'chat push frames, by direction', ['direction']).inc({ direction: 'in' })
    let decoded: DecodedPushFrame
    try {
      decoded = decodePushFrame(bytes)
    } catch (err: any) {
      this.dropped(err instanceof InvalidChatMessageError ? err.reason : 'bad-frame')
      this.log('dropped a push frame from %s: %s', peer, err?.message)
      await this.turns.take(peer, UNITS_PER_DROPPED_FRAME)
      return
    }
    for (const err of decoded.rejected) this.dropped(err.reason)
    for (const message of decoded.messages) {
      await this.turns.take(peer, UNITS_PER_MESSAGE)
      await this.init.receive(message, peer)
    }
  }

  private dropped (reason: string): void {
    this.metrics.counter('mesh_chat_dropped_total', 'chat messages and frames dropped', ['via', 'reason']).inc({ via: 'push', reason })
  }
}

/** The author closed its stream (idle, or stopping), or it went quiet past the read timeout. */
function isEndOfStream (err: any): boolean {
  return ['UnexpectedEOFError', 'TimeoutError', 'AbortError', 'StreamResetError', 'StreamStateError', 'StreamClosedError'].includes(err?.name)
}
