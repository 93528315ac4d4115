import { chmod, unlink } from 'node:fs/promises'
import { createServer, type Server, type Socket } from 'node:net'
import { CONTROL_PROTOCOL_VERSION, readLines, type ControlRequest, type ControlResponse } from '../../protocols/control/index.ts'
import { defaultLogger, type Log, type MeshLogger } from '../logging/logger.ts'
import type { MeshMetrics } from '../metrics/metrics.ts'

/** A control method answers once (a value) or streams (an async iterable of events). */
export type ControlHandler = (params: Record<string, unknown>, signal: AbortSignal) =>
  Promise<unknown> | AsyncIterable<unknown>

export class UnknownControlMethodError extends Error {
  override name = 'UnknownControlMethodError'
}

export class ControlBusyError extends Error {
  override name = 'ControlBusyError'
}

/** Each client sends one request; ten concurrent CLI invocations is already a lot. */
const MAX_CONNECTIONS = 64
/**
 * A client has this long to send its request line. The CLI sends it at once; a connection
 * that sends nothing only holds a slot, and enough of them would lock the owner out.
 */
const DEFAULT_REQUEST_TIMEOUT_MS = 5000

export interface ControlServerComponents {
  metrics: MeshMetrics
  logger?: MeshLogger
}

export interface ControlServerInit {
  /** The socket file, `<home>/mesh.sock`. */
  path: string
  requestTimeoutMs?: number
}

/**
 * The local control socket `<home>/mesh.sock`: the `mesh` CLI's way into a running node,
 * as `serf members` talks to `serf agent`. Services register their methods here.
 */
export class ControlServer {
  private readonly handlers = new Map<string, ControlHandler>()
  private readonly sockets = new Set<Socket>()
  private server?: Server
  private readonly path: string
  private readonly requestTimeoutMs: number
  private readonly metrics: MeshMetrics
  private readonly log: Log

  // No clock: the only time read here is a request's latency, a measure of real work
  // (performance.now, sub-millisecond), not a point on the node's timeline.
  constructor (components: ControlServerComponents, init: ControlServerInit) {
    this.metrics = components.metrics
    this.log = (components.logger ?? defaultLogger).forComponent('control')
    this.path = init.path
    this.requestTimeoutMs = init.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
  }

  register (method: string, handler: ControlHandler): void {
    this.handlers.set(method, handler)
  }

  async start (): Promise<void> {
    if (this.server != null) return
    // Taken before the first await, so a second start while this one runs does nothing.
    const server = createServer(socket => { this.serve(socket) })
    this.server = server
    try {
      // A socket file left by a crashed node is stale: the home lock was taken before this.
      await unlink(this.path).catch(() => {})
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(this.path, () => { server.off('error', reject); resolve() })
      })
      await chmod(this.path, 0o600)
    } catch (err) {
      this.server = undefined
      server.close()
      throw err
    }
  }

  async stop (): Promise<void> {
    const server = this.server
    if (server == null) return
    this.server = undefined
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    await unlink(this.path).catch(() => {})
  }

  private serve (socket: Socket): void {
    socket.on('error', () => {})
    if (this.sockets.size >= MAX_CONNECTIONS) {
      // Said, not a silent close: the CLI shows why instead of a bare EPIPE.
      this.metrics.counter('mesh_control_refused_total', 'control connections refused as over the cap').inc()
      const busy = new ControlBusyError(`the node has ${MAX_CONNECTIONS} control connections open; try again in a few seconds`)
      socket.end(JSON.stringify({ error: { name: busy.name, message: busy.message } }) + '\n')
      // A refused client that never closes its side must not keep the descriptor either.
      socket.setTimeout(this.requestTimeoutMs, () => { socket.destroy() })
      return
    }
    // Until its request line arrives, a silent connection is closed after the timeout; a
    // streaming answer (chat tail) may then last as long as the client reads.
    socket.setTimeout(this.requestTimeoutMs, () => { socket.destroy() })
    this.sockets.add(socket)
    const controller = new AbortController()
    socket.on('close', () => { controller.abort(); this.sockets.delete(socket) })
    void this.answer(socket, controller.signal).catch((err: any) => {
      this.log('control connection failed: %s', err?.message)
    }).finally(() => {
      socket.end()
      // Answered: a client that keeps its side open after that only holds a slot.
      socket.setTimeout(this.requestTimeoutMs, () => { socket.destroy() })
    })
  }

  private async answer (socket: Socket, signal: AbortSignal): Promise<void> {
    for await (const line of readLines(socket)) {
      socket.setTimeout(0)
      const started = performance.now()
      let method = 'invalid'
      try {
        const request = parseRequest(line)
        method = request.method
        const handler = this.handlers.get(request.method)
        if (handler == null) throw new UnknownControlMethodError(`unknown control method ${JSON.stringify(request.method)}`)
        const outcome = handler(request.params ?? {}, signal)
        if (isAsyncIterable(outcome)) {
          for await (const event of outcome) {
            if (signal.aborted) return
            await write(socket, { event })
          }
          await write(socket, { end: true })
        } else {
          await write(socket, { result: await outcome })
        }
      } catch (err: any) {
        await write(socket, { error: { name: err?.name ?? 'Error', message: String(err?.message ?? err) } })
      } finally {
        this.metrics.counter('mesh_control_requests_total', 'control socket requests', ['method']).inc({ method })
        this.metrics.histogram('mesh_control_request_seconds', 'control request latency', ['method'], [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10])
          .observe({ method }, (performance.now() - started) / 1000)
      }
      return // one request per connection
    }
  }
}

function parseRequest (line: string): ControlRequest {
  const raw = JSON.parse(line)
  if (typeof raw !== 'object' || raw === null || typeof raw.method !== 'string') throw new TypeError('a control request needs a method')
  if (raw.v !== CONTROL_PROTOCOL_VERSION) throw new TypeError(`control protocol version ${String(raw.v)} is not ${CONTROL_PROTOCOL_VERSION}: use the mesh binary of the running node`)
  if (raw.params != null && (typeof raw.params !== 'object' || Array.isArray(raw.params))) throw new TypeError('control params must be an object')
  return raw
}

function isAsyncIterable (value: unknown): value is AsyncIterable<unknown> {
  return value != null && typeof (value as any)[Symbol.asyncIterator] === 'function'
}

async function write (socket: Socket, response: ControlResponse): Promise<void> {
  if (socket.destroyed) return
  const ok = socket.write(JSON.stringify(response) + '\n')
  if (!ok) await new Promise<void>(resolve => { socket.once('drain', resolve); socket.once('close', resolve) })
}
