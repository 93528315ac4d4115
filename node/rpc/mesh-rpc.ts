import type { Libp2p } from '@libp2p/interface'
import { defaultLogger, type MeshLogger } from '../logging/logger.ts'
import type { Member, MemberTransition } from '../membership/member.ts'
import type { MeshMetrics } from '../metrics/metrics.ts'
import { systemClock, type Clock } from '../time/clock.ts'
import type { CallListener } from './client-channel.ts'
import { PeerChannels } from './peer-channels.ts'
import { RpcClient, type RpcClientInit, type RpcTransport } from './rpc-client.ts'
import { RpcMetrics } from './rpc-metrics.ts'
import { RpcServer } from './rpc-server.ts'
import type { RpcCallOptions, RpcMethods, RpcReply, RpcServiceOptions, RpcStreamOptions } from './rpc-types.ts'
import { ServiceRegistry } from './service-registry.ts'

/** Other members' loads are a heartbeat old; our own at most this old is as good. */
const SELF_REFRESH_MS = 100

/** The slice of libp2p the rpc uses: this node's id, the protocol handler, stream opens. */
export type RpcLibp2p = Pick<Libp2p, 'peerId' | 'handle' | 'unhandle' | 'dialProtocol'>

type MemberGone = 'member:dead' | 'member:leave'

/** Says when a member is gone for good (the membership service is one). */
export interface MemberGoneEvents {
  on: (event: MemberGone, listener: (t: MemberTransition) => void) => unknown
  off: (event: MemberGone, listener: (t: MemberTransition) => void) => unknown
}

export interface MeshRpcComponents {
  libp2p: RpcLibp2p
  metrics: MeshMetrics
  /** This node as its heartbeat describes it (load, workers, services, nick). */
  selfMember: () => Member
  /** The other members this node knows of, in any state. */
  members: () => readonly Member[]
  /** A member gone dead or left has its streams closed, so its calls fail over at once. */
  memberEvents: MemberGoneEvents
  /** The node's advertised service set (heartbeats carry it). */
  services: Set<string>
  /** Deadlines, timeouts, backoff and idle streams. Default: the system clock. */
  clock?: Clock
  logger?: MeshLogger
}

/**
 * The node's rpc: a registry of the services it serves, the `/mesh/rpc/1.0.0` server, and
 * a client that calls any peer's services with balancing, retry and fallback. A call the
 * balancer keeps on this node runs in-process, with the same limits and counters.
 */
export class MeshRpc {
  readonly registry: ServiceRegistry
  readonly server: RpcServer
  readonly client: RpcClient
  readonly metrics: RpcMetrics
  private readonly channels: PeerChannels
  private readonly selfId: string
  private readonly self: () => Member
  private readonly others: () => readonly Member[]
  private readonly memberEvents: MemberGoneEvents
  private readonly clock: Clock
  private selfCache?: { member: Member, at: number }
  private started = false
  private readonly onGone = (t: MemberTransition): void => { this.channels.closePeer(t.member.id) }

  constructor (components: MeshRpcComponents, init: RpcClientInit = {}) {
    const { libp2p } = components
    const clock = components.clock ?? systemClock
    const logger = components.logger ?? defaultLogger
    this.selfId = libp2p.peerId.toString()
    this.self = components.selfMember
    this.others = components.members
    this.memberEvents = components.memberEvents
    this.clock = clock
    this.metrics = new RpcMetrics(components.metrics)
    this.registry = new ServiceRegistry(components.services)
    this.server = new RpcServer({ libp2p, registry: this.registry, metrics: this.metrics, clock, logger })
    this.metrics.inflightSource = () => this.server.requestsInFlight
    this.channels = new PeerChannels({
      libp2p,
      metrics: this.metrics,
      addrsOf: peer => this.others().find(m => m.id === peer)?.addrs ?? [],
      clock,
      logger
    })
    const transport: RpcTransport = {
      inflight: peer => peer === this.selfId ? this.server.requestsInFlight : this.channels.inflight(peer),
      inline: (peer, service, method, args, deadlineMs) => peer === this.selfId ? this.server.invokeInline(service, method, args, deadlineMs) : undefined,
      start: async (peer, service, method, args, deadlineMs, listener, signal) => {
        if (peer === this.selfId) return this.startLocal(service, method, args, deadlineMs, listener)
        const channel = await this.channels.acquire(peer, signal)
        const id = channel.request(service, method, args, deadlineMs, listener)
        return () => { channel.cancel(id) }
      }
    }
    this.client = new RpcClient({
      transport,
      members: () => this.peers(),
      selfId: this.selfId,
      idempotentOf: (service, method) => this.registry.idempotent(service, method),
      metrics: this.metrics,
      clock,
      logger
    }, init)
    // A null method: liveness checks and the latency benchmark.
    this.registry.register('rpc', { ping: (args: unknown) => args }, { idempotent: true })
  }

  /** Serves `service` with these methods and advertises each as `service.method`. */
  register (service: string, methods: RpcMethods, options?: RpcServiceOptions): void {
    this.registry.register(service, methods, options)
  }

  /** The client's promise itself: no async frame of its own per call. */
  call<T = unknown> (service: string, method: string, args: unknown, opts?: RpcCallOptions): Promise<RpcReply<T>> {
    return this.client.call<T>(service, method, args, opts)
  }

  stream<T = unknown> (service: string, method: string, args: unknown, opts?: RpcStreamOptions): AsyncGenerator<T> {
    return this.client.stream<T>(service, method, args, opts)
  }

  /** Every member this node knows of, itself first: whom calls may go to, and whom a user may name. */
  peers (): Member[] {
    return [this.selfMember(), ...this.others()]
  }

  /** Harmless when already started. */
  async start (): Promise<void> {
    if (this.started) return
    this.started = true
    await this.server.start()
    this.channels.start()
    this.memberEvents.on('member:dead', this.onGone)
    this.memberEvents.on('member:leave', this.onGone)
  }

  /** Undoes start(); start() may run again afterwards. */
  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    this.memberEvents.off('member:dead', this.onGone)
    this.memberEvents.off('member:leave', this.onGone)
    this.channels.stop()
    await this.server.stop()
  }

  /**
   * This node as a candidate, rebuilt at most every SELF_REFRESH_MS: building it reads the
   * addresses and sorts the services, which would cost more than a local call itself. Its
   * calls in flight, the part that changes fast, are counted fresh by the balancer.
   */
  private selfMember (): Member {
    const now = this.clock.now()
    if (this.selfCache == null || now - this.selfCache.at > SELF_REFRESH_MS) {
      this.selfCache = { member: this.self(), at: now }
    }
    return this.selfCache.member
  }

  private startLocal (service: string, method: string, args: unknown, deadlineMs: number, listener: CallListener): () => void {
    const run = this.server.invokeLocal(service, method, args, deadlineMs, {
      result: listener.onResult,
      item: listener.onItem,
      end: listener.onEnd,
      error: err => { listener.onError(err instanceof Error ? err : new Error(String(err))) }
    })
    return () => { run.cancel(new Error('cancelled by the caller')) }
  }
}
