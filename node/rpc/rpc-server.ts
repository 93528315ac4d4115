import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import { MAX_INBOUND_STREAMS_PER_PEER, RPC_PROTOCOL, ServiceUnavailableError } from '../../protocols/rpc/index.ts'
import { defaultLogger, type Log, type MeshLogger } from '../logging/logger.ts'
import { systemClock, type Clock } from '../time/clock.ts'
import { isAsyncIterable, runHandler, type AnswerSink, type HandlerRun } from './handler-runner.ts'
import type { RpcMetrics } from './rpc-metrics.ts'
import { ServerSession } from './server-session.ts'
import type { ServiceRegistry } from './service-registry.ts'

/** The signal of an inline run: it has nothing to cancel (it is over before anyone could). */
const NEVER_ABORTED = new AbortController().signal

export interface RpcServerComponents {
  /** Registers the protocol handler; this node's id is the caller of local calls. */
  libp2p: Pick<Libp2p, 'peerId' | 'handle' | 'unhandle'>
  registry: ServiceRegistry
  metrics: RpcMetrics
  /** Times handler deadlines. Default: the system clock. */
  clock?: Clock
  logger?: MeshLogger
}

/**
 * Serves `/mesh/rpc/1.0.0`: one ServerSession per inbound stream, at most
 * MAX_INBOUND_STREAMS_PER_PEER per peer (libp2p enforces it per connection; this counts
 * across a peer's connections and counts what it refuses). Also runs local calls, so a
 * call the balancer keeps on this node is served, limited and counted the same way.
 */
export class RpcServer {
  private readonly libp2p: Pick<Libp2p, 'peerId' | 'handle' | 'unhandle'>
  private readonly registry: ServiceRegistry
  private readonly metrics: RpcMetrics
  private readonly clock: Clock
  private readonly log: Log
  private readonly streamsPerPeer = new Map<string, number>()
  private readonly sessions = new Set<ServerSession>()
  private readonly localRuns = new Set<HandlerRun>()
  /** From start() to stop(); its abort cancels every handler still running. */
  private stopController?: AbortController

  constructor (components: RpcServerComponents) {
    this.libp2p = components.libp2p
    this.registry = components.registry
    this.metrics = components.metrics
    this.clock = components.clock ?? systemClock
    this.log = (components.logger ?? defaultLogger).forComponent('rpc:server')
  }

  async start (): Promise<void> {
    if (this.stopController != null) return
    this.stopController = new AbortController()
    await this.libp2p.handle(RPC_PROTOCOL, (stream, connection) => { this.accept(stream, connection) }, {
      // One above our own per-peer cap, so the stream past the cap reaches accept() and is
      // counted as a drop rather than refused silently inside libp2p.
      maxInboundStreams: MAX_INBOUND_STREAMS_PER_PEER + 1,
      // Our own outbound pool opens at most this many per peer, too.
      maxOutboundStreams: MAX_INBOUND_STREAMS_PER_PEER
    })
  }

  async stop (): Promise<void> {
    if (this.stopController == null) return
    this.stopController.abort()
    this.stopController = undefined
    await this.libp2p.unhandle(RPC_PROTOCOL).catch(() => {})
    // Their handlers were just cancelled and would never answer: close the streams, so the
    // callers fail over now instead of at their deadlines.
    for (const session of this.sessions) session.close()
    this.sessions.clear()
    this.streamsPerPeer.clear()
  }

  /** Requests being served right now, remote and local. */
  get requestsInFlight (): number {
    let n = this.localRuns.size
    for (const s of this.sessions) n += s.requestsInFlight
    return n
  }

  /**
   * Runs a method of this node for a local caller. The sink gets the answer as a remote
   * caller would; the returned run cancels it.
   */
  invokeLocal (service: string, method: string, args: unknown, deadlineMs: number, sink: AnswerSink): HandlerRun {
    if (this.stopController == null) throw new ServiceUnavailableError('the rpc server is stopped')
    const entry = this.registry.lookup(service, method)
    const started = performance.now()
    const run = runHandler(entry, { args, caller: this.libp2p.peerId.toString(), deadlineMs }, sink,
      { clock: this.clock, stopSignal: this.stopController.signal })
    this.localRuns.add(run)
    void run.done.then(outcome => {
      this.localRuns.delete(run)
      this.metrics.requestServed(entry.key, outcome, performance.now() - started)
    })
    return run
  }

  /**
   * Runs an inline method (RpcServiceOptions.inline) of this node for a local caller, now:
   * `{ value }`, or the method's own error thrown; undefined when the method is not inline
   * (the caller then takes invokeLocal's path). Counted like any served request.
   */
  invokeInline (service: string, method: string, args: unknown, deadlineMs: number): { value: unknown } | undefined {
    const entry = this.registry.lookup(service, method)
    if (!entry.inline) return undefined
    if (this.stopController == null) throw new ServiceUnavailableError('the rpc server is stopped')
    const started = performance.now()
    const now = this.clock.now()
    try {
      const value = entry.handler(args, { signal: NEVER_ABORTED, caller: this.libp2p.peerId.toString(), deadline: now + deadlineMs })
      if (isAsyncIterable(value) || typeof (value as PromiseLike<unknown> | null)?.then === 'function') {
        throw new TypeError(`${entry.key} is registered inline but did not answer synchronously`)
      }
      this.metrics.requestServed(entry.key, 'ok', performance.now() - started)
      // `undefined` is not JSON: a method that returns nothing answers null.
      return { value: value === undefined ? null : value }
    } catch (err) {
      this.metrics.requestServed(entry.key, 'failed', performance.now() - started)
      throw err
    }
  }

  private accept (stream: Stream, connection: Connection): void {
    const peer = connection.remotePeer.toString()
    const open = this.streamsPerPeer.get(peer) ?? 0
    if (this.stopController == null) {
      this.metrics.drop('stopping')
      stream.abort(new Error('the rpc server is stopping'))
      return
    }
    if (open >= MAX_INBOUND_STREAMS_PER_PEER) {
      this.metrics.drop('too-many-streams')
      stream.abort(new Error('too many rpc streams from this peer'))
      return
    }
    this.streamsPerPeer.set(peer, open + 1)
    const session = new ServerSession({
      stream,
      caller: peer,
      registry: this.registry,
      metrics: this.metrics,
      clock: this.clock,
      log: this.log,
      stopSignal: this.stopController.signal,
      onClose: () => {
        // A session of before a stop() was already forgotten with its counts.
        if (!this.sessions.delete(session)) return
        const left = (this.streamsPerPeer.get(peer) ?? 1) - 1
        if (left <= 0) this.streamsPerPeer.delete(peer)
        else this.streamsPerPeer.set(peer, left)
      }
    })
    this.sessions.add(session)
    this.log('rpc stream from %s', peer)
  }
}
