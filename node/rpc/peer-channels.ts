import type { Libp2p, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { raceSignal } from 'race-signal'
import { DialFailedError, MAX_INBOUND_STREAMS_PER_PEER, RPC_PROTOCOL, TooManyRequestsError } from '../../protocols/rpc/index.ts'
import { defaultLogger, type Log, type MeshLogger } from '../logging/logger.ts'
import { systemClock, type Clock, type Timer } from '../time/clock.ts'
import { ClientChannel } from './client-channel.ts'
import type { RpcMetrics } from './rpc-metrics.ts'

/**
 * Streams per peer the pool opens at most: half what a server accepts, so two pools
 * (say, the node and a tool in the same home) still fit.
 */
export const MAX_CHANNELS_PER_PEER = MAX_INBOUND_STREAMS_PER_PEER / 2
/**
 * A busy channel gets a sibling once this many calls are in flight on it: yamux frames of
 * one stream are written in order, so a big streamed answer would delay small ones behind it.
 */
const SPREAD_AT_INFLIGHT = 32
/** A channel unused this long is closed (before yamux's 120 s inactivity timeout would). */
const IDLE_CLOSE_MS = 30_000
const SWEEP_EVERY_MS = 10_000
/**
 * How long one stream open may take. The open is shared by every caller waiting for a
 * channel to that peer, so it runs on its own clock, not on any one caller's signal.
 */
export const OPEN_TIMEOUT_MS = 10_000

export interface PeerChannelsComponents {
  /** Opens the streams. */
  libp2p: Pick<Libp2p, 'dialProtocol'>
  metrics: RpcMetrics
  /** Addresses a member advertised, tried when libp2p knows none for it. */
  addrsOf: (peer: string) => readonly string[]
  /** Times stream opens, idle channels and the sweep. Default: the system clock. */
  clock?: Clock
  logger?: MeshLogger
}

export interface PeerChannelsInit {
  /** Default OPEN_TIMEOUT_MS; tests shorten it. */
  openTimeoutMs?: number
}

/**
 * The client's stream pool: a few long-lived, multiplexed rpc streams per peer, opened on
 * first use, spread over when busy, closed when idle or when their connection goes.
 */
export class PeerChannels {
  private readonly libp2p: Pick<Libp2p, 'dialProtocol'>
  private readonly metrics: RpcMetrics
  private readonly addrsOf: (peer: string) => readonly string[]
  private readonly clock: Clock
  private readonly log: Log
  private readonly channels = new Map<string, ClientChannel[]>()
  private readonly opening = new Map<string, Promise<ClientChannel>>()
  private readonly openTimeoutMs: number
  /**
   * From start() to stop(); aborted by stop(), so opens begun before it are abandoned and
   * their late streams closed. Undefined while stopped: no stream opens then.
   */
  private lifetime?: AbortController
  private sweepTimer?: Timer

  constructor (components: PeerChannelsComponents, init: PeerChannelsInit = {}) {
    this.libp2p = components.libp2p
    this.metrics = components.metrics
    this.addrsOf = components.addrsOf
    this.clock = components.clock ?? systemClock
    this.log = (components.logger ?? defaultLogger).forComponent('rpc:client')
    this.openTimeoutMs = init.openTimeoutMs ?? OPEN_TIMEOUT_MS
  }

  start (): void {
    if (this.lifetime != null) return
    this.lifetime = new AbortController()
    this.sweepTimer = this.clock.setInterval(() => { this.sweep() }, SWEEP_EVERY_MS).unref()
  }

  stop (): void {
    if (this.lifetime == null) return
    this.sweepTimer?.clear()
    this.sweepTimer = undefined
    this.lifetime.abort()
    this.lifetime = undefined
    for (const list of this.channels.values()) for (const c of list) c.close()
    this.channels.clear()
    this.opening.clear()
  }

  /** Closes every stream to `peer` (declared dead or gone): its calls fail now and fall back. */
  closePeer (peer: string): void {
    for (const c of this.channels.get(peer) ?? []) c.close()
    this.channels.delete(peer)
  }

  /** Calls this node has in flight to `peer` (the balancer's own view of its load). */
  inflight (peer: string): number {
    let n = 0
    for (const c of this.channels.get(peer) ?? []) n += c.inflight
    return n
  }

  /** A channel to `peer` with room for one more call; opens one if needed. */
  async acquire (peer: string, signal: AbortSignal): Promise<ClientChannel> {
    const list = this.channels.get(peer) ?? []
    let best: ClientChannel | undefined
    for (const c of list) {
      if (c.hasRoom && (best == null || c.inflight < best.inflight)) best = c
    }
    const canGrow = list.length < MAX_CHANNELS_PER_PEER
    if (best != null && (best.inflight < SPREAD_AT_INFLIGHT || !canGrow)) return best
    if (!canGrow && best == null) {
      // Every stream is at the server's per-stream cap: the caller is overloading this peer.
      throw new TooManyRequestsError(`${MAX_CHANNELS_PER_PEER} rpc streams to ${peer} are full`)
    }
    let opening = this.opening.get(peer)
    if (opening == null) {
      // The open is shared: it runs on its own timeout (and the pool's lifetime), so one
      // caller giving up does not fail the others waiting on it.
      const shared: Promise<ClientChannel> = this.open(peer).finally(() => {
        // After stop() a newer open for this peer may sit in the map: leave it.
        if (this.opening.get(peer) === shared) this.opening.delete(peer)
      })
      // Every waiter may have given up by the time it fails: not an unhandled rejection.
      shared.catch(() => {})
      this.opening.set(peer, shared)
      opening = shared
    }
    try {
      return await raceSignal(opening, signal)
    } catch (err) {
      // Someone else's open failed but an existing channel still has room: use it
      // (unless this caller itself gave up).
      if (best != null && !signal.aborted) return best
      throw err
    }
  }

  private async open (peer: string): Promise<ClientChannel> {
    if (this.lifetime == null) throw new DialFailedError(`cannot open an rpc stream to ${peer}: rpc client stopped`)
    const lifetime = this.lifetime.signal
    const timeout = new AbortController()
    const timer = this.clock.setTimeout(() => { timeout.abort() }, this.openTimeoutMs)
    const signal = AbortSignal.any([lifetime, timeout.signal])
    // Not opened within its own time, or the pool stopped: the request never left, so the
    // caller may retry (DialFailedError), whatever a dial aborted mid-way throws.
    const failed = (err: any): DialFailedError => new DialFailedError(signal.aborted
      ? `cannot open an rpc stream to ${peer}: ${lifetime.aborted ? 'rpc client stopped' : `no stream within ${this.openTimeoutMs} ms`}`
      : `cannot open an rpc stream to ${peer}: ${String(err?.message ?? err)}`)
    let stream: Stream
    try {
      stream = await this.libp2p.dialProtocol(peerIdFromString(peer), RPC_PROTOCOL, { signal })
    } catch (first: any) {
      if (signal.aborted) throw failed(first)
      const addrs = this.addrsOf(peer)
      if (addrs.length === 0) throw failed(first)
      try {
        stream = await this.libp2p.dialProtocol(addrs.map(a => multiaddr(a)), RPC_PROTOCOL, { signal })
      } catch (err: any) {
        throw failed(err)
      }
    } finally {
      timer.clear()
    }
    if (lifetime.aborted) {
      // stop() ran while this stream was opening and has already cleared the pool: adding
      // the channel now would leak it (no sweep, no closePeer would ever see it).
      void stream.close().catch(() => { stream.abort(new Error('close failed')) })
      throw failed(undefined)
    }
    const channel = new ClientChannel({ stream, peer, metrics: this.metrics, clock: this.clock, log: this.log, onClose: c => { this.forget(c) } })
    const list = this.channels.get(peer) ?? []
    list.push(channel)
    this.channels.set(peer, list)
    this.log('opened rpc stream %d to %s', list.length, peer)
    return channel
  }

  private forget (channel: ClientChannel): void {
    const list = this.channels.get(channel.peer)
    if (list == null) return
    const rest = list.filter(c => c !== channel)
    if (rest.length === 0) this.channels.delete(channel.peer)
    else this.channels.set(channel.peer, rest)
  }

  private sweep (): void {
    const now = this.clock.now()
    for (const list of [...this.channels.values()]) {
      for (const c of list) {
        if (c.isClosed) this.forget(c)
        else if (c.inflight === 0 && now - c.lastActiveAt > IDLE_CLOSE_MS) { c.close(); this.forget(c) }
      }
    }
  }
}
