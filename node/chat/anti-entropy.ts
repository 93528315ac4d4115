import type { Connection, PeerId, Stream } from '@libp2p/interface'
import {
  CHAT_SYNC_PROTOCOL, CHAT_WIRE_VERSION, chatTopic, decodeSyncRequest, decodeSyncResponse,
  encodeSyncRequest, encodeSyncResponse, InvalidChatMessageError, MAX_DIGEST_FRAME_BYTES,
  MAX_SYNC_FRAME_BYTES, type ChatMessage, type DecodedSyncResponse, type SyncRequest
} from '../../protocols/chat/index.ts'
import { defaultLogger, type Log, type MeshLogger } from '../logging/logger.ts'
import type { MeshMetrics } from '../metrics/metrics.ts'
import { RateLimiter } from '../limits/rate-limiter.ts'
import { systemClock, type Clock, type Timer } from '../time/clock.ts'
import type { ChatStore } from './chat-store.ts'
import { withTimeout } from './clock-timeout.ts'
import type { ChatPubSub, ChatStreams } from './dependencies.ts'
import { FrameStream } from './stream-frames.ts'

export interface AntiEntropyComponents {
  /** Serves and dials the sync protocol; room members are the pubsub subscribers. */
  libp2p: Pick<ChatStreams, 'handle' | 'unhandle' | 'dialProtocol'> & { services: { pubsub: Pick<ChatPubSub, 'getSubscribers'> } }
  store: ChatStore
  metrics: MeshMetrics
  clock?: Clock
  logger?: MeshLogger
}

export interface AntiEntropyInit {
  /** Checks (signature) and stores one pulled message; true if it was new. */
  accept: (message: ChatMessage) => Promise<boolean>
  /**
   * Pulled messages one author may bring per second, and at once: the same rate a node takes
   * from an author by gossip, kept apart so a catch-up does not starve live messages.
   */
  authorRate?: { ratePerSecond: number, burst: number }
  /** Rooms this node is in. */
  rooms: () => string[]
  /** Periodic pull from one random room member; a backstop to the pull on connect. */
  intervalMs?: number
  random?: () => number
}

/** 2 s: a gap left by a lost gossip message closes within a few seconds. */
const DEFAULT_SYNC_INTERVAL_MS = 2000
/**
 * One sync pulls at most this many batches (8 × 256 messages) from one peer; the next pull
 * continues. It bounds what one peer can hand over, and make this node verify, per pull.
 */
const MAX_ROUNDS_PER_SYNC = 8
/**
 * Pulls in a row in which a sender's messages above a hole in its seqs were offered and none
 * was new: then nobody reachable holds the missing ones, and the hole is given up (the digest
 * moves past it), or those messages would be offered again on every pull for ever.
 */
export const GAP_GIVE_UP_PULLS = 5
/** Senders whose holes are watched at once; the oldest entry goes first. */
const MAX_WATCHED_GAPS = 10_000
/** Inbound sync streams served at once, over all peers. */
const MAX_CONCURRENT_SERVES = 16
/** A peer that does not answer the dial within this is tried again on a later pull. */
const DIAL_TIMEOUT_MS = 5000

/**
 * Anti-entropy for rooms. Gossipsub caches messages for seconds only, so whatever a node
 * missed (a partition, a restart, a dropped message) is pulled from peers: the asker sends
 * its digest (per sender, the seq up to which it holds everything) and the peer answers
 * with what is above it, in bounded batches, until the asker has caught up.
 */
export class AntiEntropy {
  private readonly libp2p: AntiEntropyComponents['libp2p']
  private readonly store: ChatStore
  private readonly metrics: MeshMetrics
  private readonly clock: Clock
  private readonly log: Log
  private readonly init: AntiEntropyInit
  private readonly random: () => number
  private readonly intervalMs: number
  /** Per room, the peers waiting to be pulled from, one at a time (see `sync`). */
  private readonly queues = new Map<string, Map<string, PeerId>>()
  /** The pull loops running, so `stop` can wait for them. */
  private readonly running = new Set<Promise<void>>()
  /** Made by `start`, aborted by `stop`: undefined while stopped. */
  private controller?: AbortController
  private serving = 0
  private timer?: Timer
  private readonly pulledPerAuthor: RateLimiter
  /** Per `room \0 sender`, the head seen on pulls that brought nothing new above it. */
  private readonly stuckGaps = new Map<string, { head: number, pulls: number }>()

  constructor (components: AntiEntropyComponents, init: AntiEntropyInit) {
    this.libp2p = components.libp2p
    this.store = components.store
    this.metrics = components.metrics
    this.clock = components.clock ?? systemClock
    this.log = (components.logger ?? defaultLogger).forComponent('chat:sync')
    this.init = init
    this.random = init.random ?? Math.random
    this.intervalMs = init.intervalMs ?? DEFAULT_SYNC_INTERVAL_MS
    this.pulledPerAuthor = new RateLimiter({ clock: this.clock }, init.authorRate ?? { ratePerSecond: 100, burst: 200 })
  }

  async start (): Promise<void> {
    if (this.controller != null) return
    const controller = new AbortController()
    this.controller = controller
    await this.libp2p.handle(CHAT_SYNC_PROTOCOL, (stream, connection) => { void this.serve(stream, connection, controller.signal) }, { maxInboundStreams: 4 })
    this.schedule(this.random() * this.intervalMs)
  }

  async stop (): Promise<void> {
    const controller = this.controller
    if (controller == null) return
    this.controller = undefined
    this.timer?.clear()
    this.timer = undefined
    controller.abort()
    this.queues.clear()
    await this.libp2p.unhandle(CHAT_SYNC_PROTOCOL).catch(() => {})
    await Promise.allSettled(this.running)
  }

  /**
   * Pulls what `peer` has of `room` and we lack. Pulls of one room run one peer at a time:
   * after a heal every reconnecting peer offers the same missing messages, and the second
   * pull then costs one small answer instead of the whole batch verified again.
   */
  sync (peer: PeerId, room: string): void {
    const signal = this.controller?.signal
    if (signal == null) return
    const queued = this.queues.get(room)
    if (queued != null) {
      queued.set(peer.toString(), peer)
      return
    }
    const waiting = new Map([[peer.toString(), peer]])
    this.queues.set(room, waiting)
    const loop = (async () => {
      while (waiting.size > 0 && !signal.aborted) {
        const [key, next] = waiting.entries().next().value as [string, PeerId]
        waiting.delete(key)
        await this.pull(next, room, signal).catch((err: any) => {
          if (signal.aborted) return
          this.metrics.counter('mesh_chat_sync_failures_total', 'anti-entropy pulls that failed').inc()
          this.log('sync %s with %s failed: %s', room, key, err?.message)
        })
      }
      // A stop and a start since then may have put a new queue in its place.
      if (this.queues.get(room) === waiting) this.queues.delete(room)
    })()
    this.running.add(loop)
    void loop.finally(() => { this.running.delete(loop) })
  }

  private schedule (delayMs: number): void {
    this.timer = this.clock.setTimeout(() => {
      this.syncRandomPeers()
      this.schedule(this.intervalMs * (0.75 + this.random() * 0.5))
    }, delayMs).unref()
  }

  private syncRandomPeers (): void {
    for (const room of this.init.rooms()) {
      const peers = this.libp2p.services.pubsub.getSubscribers(chatTopic(room))
      if (peers.length === 0) continue
      this.sync(peers[Math.floor(this.random() * peers.length)], room)
    }
  }

  private async pull (peer: PeerId, room: string, signal: AbortSignal): Promise<void> {
    /** Per sender, messages offered and how many of them were held already. */
    const offered = new Map<string, { offered: number, held: number }>()
    await pullRoom(this.store, room, {
      exchange: async request => {
        const stream = await withTimeout(this.clock, DIAL_TIMEOUT_MS, signal, async s => await this.libp2p.dialProtocol(peer, CHAT_SYNC_PROTOCOL, { signal: s }))
        const frames = new FrameStream(stream, { maxFrameBytes: MAX_SYNC_FRAME_BYTES, clock: this.clock })
        try {
          await frames.write(encodeSyncRequest(request), signal)
          return decodeSyncResponse(await frames.read(signal))
        } finally {
          await frames.close()
        }
      },
      accept: async message => {
        if (message.room !== room) { this.dropped('wrong-room'); return false }
        const tally = offered.get(message.from) ?? { offered: 0, held: 0 }
        offered.set(message.from, tally)
        tally.offered++
        // Held already (above a hole, or it came by gossip meanwhile): not verified again.
        if (this.store.has(message.id)) { tally.held++; return false }
        if (!this.pulledPerAuthor.tryTake(message.from)) { this.dropped('rate-limited'); return false }
        return await this.init.accept(message)
      },
      onBatch: (response, fresh) => {
        for (const err of response.rejected) this.dropped(err.reason)
        this.metrics.counter('mesh_chat_sync_rounds_total', 'anti-entropy batches pulled').inc()
        if (fresh > 0) this.log('pulled %d new message(s) of %s from %s', fresh, room, peer.toString())
      }
    })
    this.watchGaps(room, offered)
  }

  /**
   * Gives up a hole after GAP_GIVE_UP_PULLS pulls in a row that offered only messages held
   * already above it (not ones refused for the rate: those will come).
   */
  private watchGaps (room: string, offered: Map<string, { offered: number, held: number }>): void {
    for (const [sender, tally] of offered) {
      const key = `${room}\0${sender}`
      const head = this.store.head(room, sender)
      const last = this.stuckGaps.get(key)
      const onlyHeld = tally.held === tally.offered
      if (!onlyHeld || last?.head !== head) {
        this.stuckGaps.delete(key)
        if (!onlyHeld) continue
      }
      const pulls = (last?.head === head ? last.pulls : 0) + 1
      if (pulls < GAP_GIVE_UP_PULLS) {
        if (this.stuckGaps.size >= MAX_WATCHED_GAPS) this.stuckGaps.delete(this.stuckGaps.keys().next().value as string)
        this.stuckGaps.set(key, { head, pulls })
        continue
      }
      this.stuckGaps.delete(key)
      const skippedTo = this.store.skipGap(room, sender)
      this.metrics.counter('mesh_chat_gaps_abandoned_total', 'holes in a sender\'s messages no peer could fill, given up').inc()
      this.log('gave up the hole in %s after seq %d of %s: now up to %d', room, head, sender, skippedTo)
    }
  }

  private async serve (stream: Stream, connection: Connection, signal: AbortSignal): Promise<void> {
    const frames = new FrameStream(stream, { maxFrameBytes: MAX_DIGEST_FRAME_BYTES, clock: this.clock })
    if (this.serving >= MAX_CONCURRENT_SERVES) {
      this.dropped('too-many-syncs')
      frames.abort(new Error('too many concurrent syncs'))
      return
    }
    this.serving++
    try {
      const request = decodeSyncRequest(await frames.read(signal))
      const { messages, more } = this.store.missing(request.room, request.have, undefined, undefined, { after: request.after, until: request.until })
      await frames.write(encodeSyncResponse({ v: CHAT_WIRE_VERSION, messages, more }), signal)
      this.metrics.counter('mesh_chat_sync_served_total', 'anti-entropy batches served').inc()
      await frames.close()
    } catch (err: any) {
      this.dropped(err instanceof InvalidChatMessageError ? err.reason : 'stream-error')
      this.log('sync request from %s failed: %s', connection.remotePeer.toString(), err?.message)
      frames.abort(err)
    } finally {
      this.serving--
    }
  }

  private dropped (reason: string): void {
    this.metrics.counter('mesh_chat_dropped_total', 'chat messages and frames dropped', ['via', 'reason']).inc({ via: 'sync', reason })
  }
}

export interface PullHooks {
  /** Sends one request to the peer and returns its answer. */
  exchange: (request: SyncRequest) => Promise<DecodedSyncResponse>
  /** Checks and stores one pulled message; true if it was new. */
  accept: (message: ChatMessage) => Promise<boolean>
  /** One answer was handled; `fresh` of its messages were new here. */
  onBatch?: (response: DecodedSyncResponse, fresh: number) => void
}

/**
 * One pull of `room` from one peer: sends our digest a page at a time (a digest names at
 * most MAX_DIGEST_SENDERS senders, a busy room can have more) and asks again while the peer
 * says there is more, up to `maxRounds` requests; a later pull starts over and gets the rest.
 * Returns how many new messages it stored.
 */
export async function pullRoom (store: ChatStore, room: string, hooks: PullHooks, maxRounds = MAX_ROUNDS_PER_SYNC): Promise<number> {
  let after: string | undefined
  let total = 0
  for (let round = 0; round < maxRounds; round++) {
    // Read afresh each round: what the last batch stored moves the digest forward.
    const page = store.digestPage(room, after)
    const request: SyncRequest = { v: CHAT_WIRE_VERSION, room, have: page.have }
    if (after != null) request.after = after
    if (page.until != null) request.until = page.until
    const response = await hooks.exchange(request)
    let fresh = 0
    for (const message of response.messages) {
      if (await hooks.accept(message)) fresh++
    }
    hooks.onBatch?.(response, fresh)
    total += fresh
    // Nothing new in a full batch: the peer has only what we hold (a gap it cannot fill).
    if (response.more && fresh > 0) continue
    if (page.until == null) return total
    after = page.until
  }
  return total
}
