import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRequire } from 'node:module'
import type * as PromClient from 'prom-client'
import { Registry } from '../metrics/prom.ts'
import { CALC_OPS, MAX_PRIME_DIGITS, MAX_RANGE_PRIMES, TEXT_OPS } from '../../protocols/gateway/constants.ts'
import { BadRequestError, parseBound, parseWhole } from '../../protocols/gateway/line-request.ts'
import { MAX_DEADLINE_MS } from '../../protocols/rpc/index.ts'
import { memberView } from '../control/core-methods.ts'
import { defaultLogger, type Log, type MeshLogger } from '../logging/logger.ts'
import type { MemberView } from '../membership/member-view.ts'
import type { MeshMetrics } from '../metrics/metrics.ts'
import type { Clock } from '../time/clock.ts'
import type { Dashboard } from '../dashboard/dashboard.ts'
import { PAGE_SECURITY_HEADERS } from '../dashboard/static-assets.ts'
import type { GatewayMetrics } from './gateway-metrics.ts'
import { listenOn } from './listen.ts'
import { asGatewayError, GatewayError, statusOf, type GatewayWork } from './gateway-work.ts'

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '::1', '[::1]'])

/** The rpc services POST /api/call forwards. */
const CALLABLE_SERVICES: ReadonlySet<string> = new Set(['greeter', 'calc', 'text', 'primes'])

/** Largest request body (POST /api/tasks, /api/call). */
export const MAX_BODY_BYTES = 256 * 1024
/** Primes per page of /api/primes/range unless `limit` says fewer. */
export const DEFAULT_RANGE_PAGE = 10_000
export const HTTP_HEADERS_TIMEOUT_MS = 10_000
export const HTTP_REQUEST_TIMEOUT_MS = 60_000
export const DEFAULT_HTTP_MAX_CONNECTIONS = 1024

export interface HttpApiComponents {
  work: Pick<GatewayWork, 'run' | 'count' | 'range' | 'call'>
  membership: Pick<MemberView, 'selfMember' | 'members'>
  /** `mesh stats`'s report of this node. */
  stats: { local: () => Promise<unknown> }
  jobs: { list: () => unknown[] }
  tasks: { run: (kind: string, op: string, input: unknown, opts: { signal: AbortSignal, deadlineMs: number }) => Promise<unknown> }
  metrics: MeshMetrics
  gatewayMetrics: GatewayMetrics
  clock: Clock
  logger?: MeshLogger
  /** The web dashboard at `/`, its live feed and chat endpoints. */
  dashboard?: Dashboard
}

export interface HttpApiInit {
  host: string
  port: number
  maxConnections?: number
}

type Handler = (req: IncomingMessage, url: URL, signal: AbortSignal) => Promise<unknown>

const TASK_KINDS = new Set(['calc', 'text'])

/**
 * The HTTP API on node:http: JSON under /api, Prometheus text at /metrics. Errors are JSON
 * `{"error"}` with 400, 404, 405, 413, 503 (no peer offers the service) or 504 (deadline).
 */
export class HttpApi {
  private readonly c: HttpApiComponents
  private readonly init: HttpApiInit
  private readonly log: Log
  private readonly routes: Record<string, { method: 'GET' | 'POST', handler: Handler }>
  /** The process's own metrics (CPU, memory, event-loop lag), apart from the node's registry so `mesh stats` stays about the mesh. */
  private processRegistry?: PromClient.Registry
  private server?: Server

  constructor (components: HttpApiComponents, init: HttpApiInit) {
    this.c = components
    this.init = init
    this.log = (components.logger ?? defaultLogger).forComponent('http')
    this.routes = {
      '/api/peers': { method: 'GET', handler: async () => this.peers() },
      '/api/stats': { method: 'GET', handler: async () => ({ ...(await this.c.stats.local() as object), gateway: await this.c.gatewayMetrics.report() }) },
      '/api/jobs': { method: 'GET', handler: async () => ({ jobs: this.c.jobs.list() }) },
      '/api/primes/count': { method: 'GET', handler: async (_req, url, signal) => await this.c.work.count(...rangeOf(url), signal) },
      '/api/primes/test': {
        method: 'GET',
        handler: async (_req, url, signal) => await this.c.work.run({ cmd: 'prime', n: parseWhole(param(url, 'n'), 'n', MAX_PRIME_DIGITS) }, signal)
      },
      '/api/primes/range': { method: 'GET', handler: async (_req, url, signal) => await this.rangePage(url, signal) },
      '/api/tasks': { method: 'POST', handler: async (req, _url, signal) => await this.task(await readJson(req), signal) },
      '/api/call': { method: 'POST', handler: async (req, _url, signal) => await this.call(await readJson(req), signal) }
    }
    for (const [path, route] of Object.entries(components.dashboard?.routes ?? {})) {
      this.routes[path] = { method: route.method, handler: async (req, url) => await route.handler(req, url, async () => await readJson(req)) }
    }
  }

  address (): { host: string, port: number } | null {
    const a = this.server?.address() as AddressInfo | null | undefined
    return a != null ? { host: a.address, port: a.port } : null
  }

  async start (): Promise<void> {
    if (this.server != null) return
    // Only a node that serves /metrics pays for the process metrics (prom-client's collectors
    // and what they load), and only once: the collectors cannot be stopped.
    if (this.processRegistry == null) {
      const registry = new Registry()
      // The module is the function itself (prom-client's index re-exports it by that name).
      const collectDefaultMetrics = createRequire(import.meta.url)('prom-client/lib/defaultMetrics') as typeof PromClient.collectDefaultMetrics
      collectDefaultMetrics({ register: registry })
      this.processRegistry = registry
    }
    const server = createServer({
      headersTimeout: HTTP_HEADERS_TIMEOUT_MS,
      requestTimeout: HTTP_REQUEST_TIMEOUT_MS,
      // Node checks those timeouts this often (30 s by default): a client trickling its
      // headers would otherwise hold its connection up to 40 s instead of 10.
      connectionsCheckingInterval: 1000,
      maxHeaderSize: 16 * 1024
    }, (req, res) => {
      this.serve(req, res).catch(err => { this.log('answering %s failed: %s', req.url, err?.message) })
    })
    server.maxConnections = this.init.maxConnections ?? DEFAULT_HTTP_MAX_CONNECTIONS
    this.server = server
    await listenOn(server, { host: this.init.host, port: this.init.port }, this.log).catch((err: Error) => {
      this.server = undefined
      throw err
    })
    this.c.dashboard?.start()
    this.log('HTTP API on %s:%d', this.address()?.host, this.address()?.port)
  }

  async stop (): Promise<void> {
    const server = this.server
    if (server == null) return
    this.server = undefined
    // The dashboard's feeds are open responses: ended first, so close() does not wait on them.
    this.c.dashboard?.stop()
    server.closeAllConnections()
    await new Promise<void>(resolve => { server.close(() => { resolve() }) })
  }

  private async serve (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://gateway')
    const route = this.routes[url.pathname]
    // Work for a client that hung up is cancelled.
    const abort = new AbortController()
    res.on('close', () => { if (!res.writableFinished) abort.abort(new Error('the client went away')) })
    let label = route != null ? url.pathname : 'other'
    if (route != null) {
      const started = performance.now()
      res.once('finish', () => { this.c.gatewayMetrics.httpLatency.observe({ route: url.pathname }, (performance.now() - started) / 1000) })
    }
    if (!this.hostAllowed(req.headers.host)) {
      this.sendJson(res, 403, { error: 'this API answers only to the names of this machine it listens on' }, label)
      return
    }
    if (!browserRequestAllowed(req)) {
      this.sendJson(res, 403, { error: 'from a web page, this API answers only this node\'s own pages (and links to them)' }, label)
      return
    }
    try {
      if (url.pathname === '/metrics' && req.method === 'GET') {
        label = '/metrics'
        const text = await this.c.metrics.registry.metrics() + '\n' + (await this.processRegistry?.metrics() ?? '')
        this.send(res, 200, text, this.c.metrics.registry.contentType, label)
        return
      }
      const dashboard = this.c.dashboard
      if (dashboard != null && req.method === 'GET') {
        if (url.pathname === '/api/events') {
          dashboard.openFeed(res)
          this.c.gatewayMetrics.httpRequests.inc({ route: url.pathname, status: String(res.statusCode) })
          return
        }
        const asset = await dashboard.assets.get(url.pathname)
        if (asset != null) {
          this.send(res, 200, asset.body, asset.type, url.pathname, { ...PAGE_SECURITY_HEADERS, 'cache-control': 'no-cache' })
          return
        }
      }
      if (route == null) throw new GatewayError('not_found', `no such endpoint: ${req.method ?? ''} ${url.pathname.slice(0, 100)}`)
      if (req.method !== route.method) {
        res.setHeader('allow', route.method)
        this.sendJson(res, 405, { error: `${url.pathname} takes ${route.method}` }, label)
        return
      }
      const body = await route.handler(req, url, abort.signal)
      this.sendJson(res, 200, body, label)
    } catch (err: any) {
      const e = err instanceof BadRequestError ? new GatewayError('bad_arguments', err.message) : asGatewayError(err)
      this.c.gatewayMetrics.errors.inc({ kind: e.kind })
      if (e.kind === 'too_large') res.setHeader('connection', 'close')
      this.sendJson(res, statusOf(e.kind), { error: e.message }, label)
    }
  }

  /**
   * A server on loopback answers only requests addressed to loopback names: a web page that
   * rebinds its own domain to 127.0.0.1 (DNS rebinding) still sends its domain as Host, and
   * would otherwise read this API's answers. A server on a LAN address has no such list.
   */
  private hostAllowed (header: string | undefined): boolean {
    if (!LOOPBACK_HOSTS.has(this.init.host)) return true
    if (header == null) return false
    const name = header.startsWith('[') ? header.slice(0, header.indexOf(']') + 1) : header.split(':')[0]
    return LOOPBACK_HOSTS.has(name.toLowerCase())
  }

  private sendJson (res: ServerResponse, status: number, body: unknown, label: string): void {
    this.send(res, status, JSON.stringify(body) + '\n', 'application/json; charset=utf-8', label)
  }

  private send (res: ServerResponse, status: number, text: string | Buffer, type: string, label: string, headers: Record<string, string> = {}): void {
    this.c.gatewayMetrics.httpRequests.inc({ route: label, status: String(status) })
    if (res.headersSent || res.destroyed) return
    res.writeHead(status, { ...headers, 'content-type': type, 'content-length': Buffer.byteLength(text) })
    res.end(text)
  }

  private peers (): unknown {
    const now = this.c.clock.now()
    const self = this.c.membership.selfMember()
    return { self: self.id, members: [self, ...this.c.membership.members()].map(m => memberView(m, now)) }
  }

  private async rangePage (url: URL, signal: AbortSignal): Promise<unknown> {
    const [from, to] = rangeOf(url)
    const limitText = url.searchParams.get('limit')
    const limit = limitText == null ? DEFAULT_RANGE_PAGE : Number(parseWhole(limitText, 'limit', 7))
    if (limit < 1 || limit > MAX_RANGE_PRIMES) throw new BadRequestError(`limit must be from 1 to ${MAX_RANGE_PRIMES}`)
    const page = await this.c.work.range(from, to, limit, signal)
    return { from: from.toString(), to: to.toString(), count: page.primes.length, primes: page.primes, next: page.next, peer: page.peer }
  }

  private async task (body: Record<string, unknown>, signal: AbortSignal): Promise<unknown> {
    const { kind, op, input } = body
    if (typeof kind !== 'string' || !TASK_KINDS.has(kind)) throw new BadRequestError('kind must be calc or text')
    const ops: readonly string[] = kind === 'calc' ? CALC_OPS : TEXT_OPS
    if (typeof op !== 'string' || !ops.includes(op)) throw new BadRequestError(`${kind} operations are ${ops.join(', ')}`)
    return await this.c.tasks.run(kind, op, input ?? null, { signal, deadlineMs: deadlineOf(body) })
  }

  private async call (body: Record<string, unknown>, signal: AbortSignal): Promise<unknown> {
    const { service, method } = body
    if (typeof service !== 'string' || typeof method !== 'string') throw new BadRequestError('the body needs "service" and "method", strings')
    // Clients outside the mesh reach the work services, not the node's own plumbing
    // (node.stats, chat, load test shares): those stay with the mesh's members.
    if (!CALLABLE_SERVICES.has(service)) throw new GatewayError('not_found', `${service} is not offered to clients outside the mesh; they may call ${[...CALLABLE_SERVICES].join(', ')}`)
    return await this.c.work.call(service, method, body.args ?? null, signal, deadlineOf(body))
  }
}

/**
 * What a web page in the user's browser may ask: only this node's own pages may POST or
 * fetch, another site may only link here. Browsers say where a request comes from on every
 * POST (`Origin`) and, current ones, on every request (`Sec-Fetch-Site`, with
 * `Sec-Fetch-Mode: navigate` for a followed link), so another site open in the same browser
 * is refused here even for requests that need no CORS preflight (a form, an `<img>`):
 * it can neither post as this node nor hold the dashboard's feeds or start work with a GET.
 * A client that sends none of these headers is not a web page (curl, scripts): nothing to check.
 */
function browserRequestAllowed (req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site']
  const otherSite = site != null && site !== 'same-origin' && site !== 'none'
  if (req.method !== 'POST') return !otherSite || req.headers['sec-fetch-mode'] === 'navigate'
  if (otherSite) return false
  const origin = req.headers.origin
  if (origin == null) return true
  let parsed: URL
  try {
    parsed = new URL(origin)
  } catch {
    return false
  }
  return parsed.protocol === 'http:' && parsed.host === String(req.headers.host ?? '').toLowerCase()
}

function param (url: URL, name: string): string {
  const value = url.searchParams.get(name)
  if (value == null) throw new BadRequestError(`missing query parameter ${name}`)
  return value
}

function rangeOf (url: URL): [bigint, bigint] {
  const from = parseBound(param(url, 'from'), 'from')
  const to = parseBound(param(url, 'to'), 'to')
  if (from > to) throw new BadRequestError('from must not be greater than to')
  return [from, to]
}

function deadlineOf (body: Record<string, unknown>): number {
  const d = body.deadlineMs ?? 15_000
  if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > MAX_DEADLINE_MS) throw new BadRequestError(`deadlineMs must be from 1 to ${MAX_DEADLINE_MS}`)
  return d
}

/** The request body as a JSON object, at most MAX_BODY_BYTES (413 beyond, without reading the rest). */
async function readJson (req: IncomingMessage): Promise<Record<string, unknown>> {
  // A browser sends a cross-site form or text/plain POST without asking; application/json
  // it may not send to another origin without the server's consent, which this never gives.
  const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase()
  if (type !== 'application/json') throw new GatewayError('bad_arguments', 'the body must be JSON, sent with content-type: application/json')
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > MAX_BODY_BYTES) throw new GatewayError('too_large', `the body is larger than ${MAX_BODY_BYTES} bytes`)
  // Events rather than for-await: leaving an async iterator early destroys the socket, and
  // the client would never see its 413.
  const chunks = await new Promise<Buffer[]>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        req.off('data', onData)
        req.pause()
        reject(new GatewayError('too_large', `the body is larger than ${MAX_BODY_BYTES} bytes`))
        return
      }
      chunks.push(chunk)
    }
    req.on('data', onData)
    req.once('end', () => { resolve(chunks) })
    req.once('error', reject)
  })
  let body: unknown
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks)))
  } catch {
    throw new BadRequestError('the body must be a JSON object')
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequestError('the body must be a JSON object')
  return body as Record<string, unknown>
}
