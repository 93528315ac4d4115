import type { MemberTransition } from '../membership/member.ts'
import type { MembershipService } from '../membership/membership-service.ts'
import type { MeshLibp2p } from '../libp2p/create-libp2p.ts'
import type { MeshMetrics } from '../metrics/metrics.ts'
import type { MemberLike } from './balancer.ts'
import type { CallListener } from './client-channel.ts'
import { PeerChannels } from './peer-channels.ts'
import { RpcClient, type RpcClientInit, type RpcTransport } from './rpc-client.ts'
import { RpcMetrics } from './rpc-metrics.ts'
import { RpcServer } from './rpc-server.ts'
import type { RpcCallOptions, RpcMethods, RpcReply, RpcServiceOptions, RpcStreamOptions } from './rpc-types.ts'
import { ServiceRegistry } from './service-registry.ts'

/** Other members' loads are a heartbeat old; our own at most this old is as good. */
const SELF_REFRESH_MS = 100

export interface MeshRpcComponents {
  libp2p: MeshLibp2p
  metrics: MeshMetrics
  membership: MembershipService
  /** The node's advertised service set (heartbeats carry it). */
  services: Set<string>
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
  private readonly membership: MembershipService
  private readonly selfId: string
  private selfCache?: { member: MemberLike, at: number }
  private readonly onGone = (t: MemberTransition): void => { this.channels.closePeer(t.member.id) }

  constructor (components: MeshRpcComponents, init: RpcClientInit = {}) {
    const { libp2p, membership } = components
    this.membership = membership
    this.selfId = libp2p.peerId.toString()
    this.metrics = new RpcMetrics(components.metrics)
    this.registry = new ServiceRegistry(components.services)
    this.server = new RpcServer({ libp2p, registry: this.registry, metrics: this.metrics })
    this.metrics.inflightSource = () => this.server.requestsInFlight
    this.channels = new PeerChannels({
      libp2p,
      metrics: this.metrics,
      addrsOf: peer => membership.table.get(peer)?.addrs ?? []
    })
    const transport: RpcTransport = {
      inflight: peer => peer === this.selfId ? this.server.requestsInFlight : this.channels.inflight(peer),
      start: async (peer, service, method, args, deadlineMs, listener, signal) => {
        if (peer === this.selfId) return this.startLocal(service, method, args, deadlineMs, listener)
        const channel = await this.channels.acquire(peer, signal)
        const id = channel.request(service, method, args, deadlineMs, listener)
        return () => { channel.cancel(id) }
      }
    }
    this.client = new RpcClient({
      transport,
      members: () => [this.selfMember(), ...membership.table.list()],
      selfId: this.selfId,
      idempotentOf: (service, method) => this.registry.idempotent(service, method),
      metrics: this.metrics
    }, init)
    // A null method: liveness checks and the latency benchmark.
    this.registry.register('rpc', { ping: (args: unknown) => args }, { idempotent: true })
  }

  /** Serves `service` with these methods and advertises each as `service.method`. */
  register (service: string, methods: RpcMethods, options?: RpcServiceOptions): void {
    this.registry.register(service, methods, options)
  }

  async call<T = unknown> (service: string, method: string, args: unknown, opts?: RpcCallOptions): Promise<RpcReply<T>> {
    return await this.client.call<T>(service, method, args, opts)
  }

  stream<T = unknown> (service: string, method: string, args: unknown, opts?: RpcStreamOptions): AsyncGenerator<T> {
    return this.client.stream<T>(service, method, args, opts)
  }

  async start (): Promise<void> {
    await this.server.start()
    this.channels.start()
    this.membership.on('member:dead', this.onGone)
    this.membership.on('member:leave', this.onGone)
  }

  async stop (): Promise<void> {
    this.membership.off('member:dead', this.onGone)
    this.membership.off('member:leave', this.onGone)
    this.channels.stop()
    await this.server.stop()
  }

  /**
   * This node as a candidate, rebuilt at most every SELF_REFRESH_MS: building it reads the
   * addresses and sorts the services, which would cost more than a local call itself. Its
   * calls in flight, the part that changes fast, are counted fresh by the balancer.
   */
  private selfMember (): MemberLike {
    const now = Date.now()
    if (this.selfCache == null || now - this.selfCache.at > SELF_REFRESH_MS) {
      this.selfCache = { member: this.membership.selfMember(), at: now }
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
