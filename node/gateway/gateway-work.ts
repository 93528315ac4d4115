import { bigintJson } from '../../protocols/json-bigint.ts'
import { COMMANDS, MAX_RANGE_PRIMES } from '../../protocols/gateway/constants.ts'
import type { GatewayRequest } from '../../protocols/gateway/line-request.ts'
import { countSmallPrimes, SMALL_COUNT_LIMIT } from '../compute/primes/small-prime-count.ts'
import { parseShardItem } from '../jobs/shard-wire.ts'
import type { JobService } from '../jobs/job-service.ts'
import type { MemberView } from '../membership/member-view.ts'
import type { MeshRpc } from '../rpc/mesh-rpc.ts'
import type { Clock } from '../time/clock.ts'
import type { GatewayMetrics } from './gateway-metrics.ts'

/** Counts up to this wide go to one peer as one shard; wider ones become a distributed job. */
export const SINGLE_SHARD_WIDTH = 100_000_000n
/** Counts whose range ends at or below this are answered by the gateway itself, from a table. */
export const IN_GATEWAY_COUNT_LIMIT = BigInt(SMALL_COUNT_LIMIT)
/** How long the number of count places in the mesh is reused (membership changes far more slowly). */
const PLACES_REFRESH_MS = 500
/** Budget of a forwarded call (retries and fallback included). */
export const FORWARD_DEADLINE_MS = 15_000

export interface GatewayWorkComponents {
  rpc: Pick<MeshRpc, 'call' | 'stream'>
  jobs: Pick<JobService, 'count'>
  membership: Pick<MemberView, 'selfMember' | 'members'>
  metrics: GatewayMetrics
  clock: Clock
}

/** Wide counts (distributed jobs) the gateway runs at once, over all its clients. */
export const MAX_GATEWAY_JOBS = 4

/** What a request's answer is, or why it failed: a message for the client and a kind for the counters and HTTP status. */
export class GatewayError extends Error {
  override name = 'GatewayError'
  readonly kind: string
  constructor (kind: string, message: string) {
    super(message)
    this.kind = kind
  }
}

/**
 * Runs one gateway request: in the gateway itself (echo, stats, peers, help) or in the mesh
 * through the rpc client (balancing, retry, fallback), naming the peer that did the work.
 * Shared by the line protocol and the HTTP API.
 */
export class GatewayWork {
  private readonly c: GatewayWorkComponents
  private jobsRunning = 0
  /** Single-shard counts forwarded now, and those waiting for a place (see countPlaces). */
  private countsRunning = 0
  private readonly countWaiters: Array<() => void> = []
  private places?: { n: number, at: number }
  private selfId?: string

  constructor (components: GatewayWorkComponents) {
    this.c = components
  }

  async run (request: GatewayRequest, signal: AbortSignal): Promise<Record<string, unknown>> {
    try {
      return await this.dispatch(request, signal)
    } catch (err) {
      throw asGatewayError(err)
    }
  }

  private async dispatch (request: GatewayRequest, signal: AbortSignal): Promise<Record<string, unknown>> {
    switch (request.cmd) {
      case 'echo': return { echo: request.text }
      case 'help': return { commands: COMMANDS }
      case 'stats': return await this.c.metrics.report()
      case 'peers': return { peers: this.peers() }
      case 'hello': {
        const reply = await this.forward('greeter', 'hello', 'Hello', signal)
        return { reply: reply.result, peer: reply.peer }
      }
      case 'calc': {
        const reply = await this.forward('calc', request.op, request.numbers, signal)
        return { op: request.op, result: reply.result, peer: reply.peer }
      }
      case 'text': {
        const reply = await this.forward('text', request.op, request.text, signal)
        return { op: request.op, result: reply.result, peer: reply.peer }
      }
      case 'prime': {
        const reply = await this.forward<{ n: string, is_prime: boolean }>('primes', 'test', { n: request.n.toString() }, signal)
        return { n: reply.result.n, is_prime: reply.result.is_prime, peer: reply.peer }
      }
      case 'range': {
        const page = await this.range(request.from, request.to, MAX_RANGE_PRIMES, signal)
        if (page.next != null) {
          throw new GatewayError('too_many_primes', `[${request.from}, ${request.to}] holds more than ${MAX_RANGE_PRIMES} primes: use count, or GET /api/primes/range page by page`)
        }
        return { count: page.primes.length, primes: page.primes, peer: page.peer }
      }
      case 'count': return await this.count(request.from, request.to, signal)
    }
  }

  /** The first `limit` primes of [from, to] from a peer, and where the rest starts (null if none). */
  async range (from: bigint, to: bigint, limit: number, signal: AbortSignal): Promise<{ primes: Array<number | string>, next: string | null, peer: string }> {
    const reply = await this.forward<{ primes: string[], next: string | null }>('primes', 'range', { from: from.toString(), to: to.toString(), limit }, signal)
    return { primes: reply.result.primes.map(p => bigintJson(BigInt(p))), next: reply.result.next, peer: reply.peer }
  }

  /**
   * A small count is a table lookup here (a thread hop or a network round trip would cost
   * more than the count); a narrow one is one shard on one peer; a wide one a distributed
   * job (the scheduler of `mesh primes count`).
   */
  async count (from: bigint, to: bigint, signal: AbortSignal): Promise<Record<string, unknown>> {
    if (to <= IN_GATEWAY_COUNT_LIMIT && from <= to) {
      signal.throwIfAborted()
      const peer = this.self()
      this.c.metrics.servedBy.inc({ peer })
      return { from: bigintJson(from), to: bigintJson(to), count: countSmallPrimes(Number(from), Number(to)), peer }
    }
    if (to - from < SINGLE_SHARD_WIDTH) {
      await this.countPlace(signal)
      try {
        return await this.singleShard(from, to, signal)
      } finally {
        this.countsRunning--
        this.countWaiters.shift()?.()
      }
    }
    return await this.job(from, to, signal)
  }

  /**
   * Waits until fewer single-shard counts are out than the mesh has places for: peers refuse
   * shards beyond their workers and a short queue (TooManyRequests), so a gateway with many
   * pipelining clients queues the excess here, in order, instead of failing it.
   */
  private async countPlace (signal: AbortSignal): Promise<void> {
    signal.throwIfAborted()
    if (this.countsRunning < this.countPlaces()) {
      this.countsRunning++
      return
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.countWaiters.indexOf(go)
        if (i >= 0) this.countWaiters.splice(i, 1)
        reject(signal.reason)
      }
      const go = (): void => {
        signal.removeEventListener('abort', onAbort)
        this.countsRunning++
        resolve()
      }
      this.countWaiters.push(go)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Two per worker slot of the live members offering primes.count: one running, one queued behind it. */
  private countPlaces (): number {
    // Building this node's own member reads its addresses: not per request.
    const now = this.c.clock.now()
    if (this.places != null && now - this.places.at < PLACES_REFRESH_MS) return this.places.n
    const n = this.countPlacesNow()
    this.places = { n, at: now }
    return n
  }

  private countPlacesNow (): number {
    let slots = 0
    for (const m of [this.c.membership.selfMember(), ...this.c.membership.members()]) {
      if (m.state === 'alive' && m.services.includes('primes.count')) slots += m.workers.total
    }
    return Math.max(2, slots * 2)
  }

  private async singleShard (from: bigint, to: bigint, signal: AbortSignal): Promise<Record<string, unknown>> {
    let peer = ''
    const stream = this.c.rpc.stream('primes', 'count', { from: from.toString(), to: to.toString() }, {
      signal, deadlineMs: FORWARD_DEADLINE_MS, onPeer: p => { peer = p }
    })
    let count: bigint | undefined
    // Read on to the stream's end, which follows the result at once: leaving the loop early
    // cancels the call (a cancel frame to the peer) whenever the end has not arrived yet.
    for await (const raw of stream) {
      const item = parseShardItem(raw)
      if (item.type === 'result') count = item.result.count
    }
    if (count == null) throw new GatewayError('failed', 'the peer ended the count without a result')
    this.c.metrics.servedBy.inc({ peer })
    return { from: bigintJson(from), to: bigintJson(to), count: bigintJson(count), peer }
  }

  private async job (from: bigint, to: bigint, signal: AbortSignal): Promise<Record<string, unknown>> {
    // Each job is journaled in mesh.db and spreads over every peer: a client may not start
    // them faster than the mesh finishes them.
    if (this.jobsRunning >= MAX_GATEWAY_JOBS) throw new GatewayError('busy', `${MAX_GATEWAY_JOBS} wide counts are running already; try again when one is done`)
    this.jobsRunning++
    try {
      return await this.runJob(from, to, signal)
    } finally {
      this.jobsRunning--
    }
  }

  private async runJob (from: bigint, to: bigint, signal: AbortSignal): Promise<Record<string, unknown>> {
    for await (const event of this.c.jobs.count(from, to, false, signal) as AsyncIterable<any>) {
      if (event?.type === 'done') {
        const r = event.report
        for (const p of r.peers) this.c.metrics.servedBy.inc({ peer: p.id }, p.shards)
        return {
          from: bigintJson(BigInt(r.from)),
          to: bigintJson(BigInt(r.to)),
          count: bigintJson(BigInt(r.count)),
          seconds: r.seconds,
          shards: r.shards,
          peers: r.peers,
          retries: r.retries,
          job: event.id
        }
      }
    }
    throw new GatewayError('failed', 'the job ended without a result')
  }

  /** Any rpc method, balanced across the peers that offer it (POST /api/call). */
  async call (service: string, method: string, args: unknown, signal: AbortSignal, deadlineMs = FORWARD_DEADLINE_MS): Promise<{ result: unknown, peer: string }> {
    try {
      const { result, peer } = await this.forward(service, method, args, signal, deadlineMs)
      return { result, peer }
    } catch (err) {
      throw asGatewayError(err)
    }
  }

  private async forward<T> (service: string, method: string, args: unknown, signal: AbortSignal, deadlineMs = FORWARD_DEADLINE_MS): Promise<{ result: T, peer: string }> {
    const reply = await this.c.rpc.call<T>(service, method, args, { signal, deadlineMs })
    this.c.metrics.servedBy.inc({ peer: reply.peer })
    return reply
  }

  /** This node's id (building its whole member record is not a per-request cost). */
  private self (): string {
    this.selfId ??= this.c.membership.selfMember().id
    return this.selfId
  }

  private peers (): Array<Record<string, unknown>> {
    const now = this.c.clock.now()
    return [this.c.membership.selfMember(), ...this.c.membership.members()].map(m => ({
      id: m.id,
      nick: m.nick,
      state: m.state,
      lastSeenMs: Math.max(0, now - m.lastSeenAt),
      workers: m.workers,
      load: m.load,
      roles: m.roles
    }))
  }
}

/** rpc errors by name → a kind: the counter label, and the HTTP status the API answers with. */
export function asGatewayError (err: any): GatewayError {
  if (err instanceof GatewayError) return err
  const message = String(err?.message ?? err)
  // Every attempt failed: the last one says what kind of failure it was (a deadline, a dead peer).
  const name = err?.name === 'AllAttemptsFailedError' ? err.attempts?.at(-1)?.error?.name : err?.name
  switch (name) {
    case 'InvalidArgumentsError': case 'UnknownGreetingError': case 'BadRequestError': return new GatewayError('bad_arguments', message)
    case 'NoPeerForServiceError': case 'UnknownServiceError': case 'UnknownMethodError':
    case 'ServiceUnavailableError': case 'TooManyRequestsError': case 'DialFailedError': case 'ConnectionLostError':
      return new GatewayError('no_peer', message)
    case 'DeadlineExceededError': case 'TimeoutError': return new GatewayError('deadline', message)
    case 'AbortError': case 'RpcCancelledError': return new GatewayError('cancelled', message)
    default: return new GatewayError('failed', message)
  }
}

/** HTTP status of an error kind. */
export function statusOf (kind: string): number {
  switch (kind) {
    case 'bad_arguments': case 'too_many_primes': return 400
    case 'no_peer': case 'busy': return 503
    case 'deadline': return 504
    case 'too_large': return 413
    case 'not_found': return 404
    default: return 500
  }
}
