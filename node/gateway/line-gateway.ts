import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { MAX_LINE_BYTES } from '../../protocols/gateway/constants.ts'
import { parseLine, type RequestId } from '../../protocols/gateway/line-request.ts'
import { defaultLogger, type Log, type MeshLogger } from '../logging/logger.ts'
import type { Clock, Timer } from '../time/clock.ts'
import type { GatewayMetrics } from './gateway-metrics.ts'
import type { GatewayWork } from './gateway-work.ts'
import { listenOn } from './listen.ts'

export const DEFAULT_MAX_CONNECTIONS = 1024
export const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60_000
/** Requests of one connection started and not yet answered; beyond it the connection is not read from. */
export const DEFAULT_MAX_IN_FLIGHT = 64
/**
 * Bytes of complete lines read but not yet started that a connection may hold before it is no
 * longer read from. Reading on up to this bound, rather than stopping at the in-flight cap,
 * keeps a client's reset visible: a socket that is not read from never sees it.
 */
export const MAX_WAITING_BYTES = 256 * 1024

export interface LineGatewayComponents {
  work: Pick<GatewayWork, 'run'>
  metrics: GatewayMetrics
  clock: Clock
  logger?: MeshLogger
}

export interface LineGatewayInit {
  host: string
  /** 0 picks a free port (see `address()`). */
  port: number
  maxConnections?: number
  idleTimeoutMs?: number
  maxInFlight?: number
}

/**
 * The gateway's TCP line protocol: one request per line (text or JSON), one JSON answer per
 * line, in order, pipelining allowed. Every connection is bounded: a line in bytes, requests
 * in flight, answers waiting to be written (it is not read from while its client does not
 * read), and its idle time.
 */
export class LineGateway {
  private readonly c: LineGatewayComponents
  private readonly init: Required<LineGatewayInit>
  private readonly log: Log
  private readonly connections = new Set<LineConnection>()
  private server?: Server
  private sweeper?: Timer

  constructor (components: LineGatewayComponents, init: LineGatewayInit) {
    this.c = components
    this.init = {
      host: init.host,
      port: init.port,
      maxConnections: init.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      idleTimeoutMs: init.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      maxInFlight: init.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT
    }
    this.log = (components.logger ?? defaultLogger).forComponent('gateway')
  }

  /** Where it listens, once started. */
  address (): { host: string, port: number } | null {
    const a = this.server?.address() as AddressInfo | null | undefined
    return a != null ? { host: a.address, port: a.port } : null
  }

  async start (): Promise<void> {
    if (this.server != null) return
    // Half-open: a client that sends its last line and shuts down its side still gets the answers.
    const server = createServer({ allowHalfOpen: true, noDelay: true }, socket => { this.accept(socket) })
    this.server = server
    await listenOn(server, { host: this.init.host, port: this.init.port, backlog: 2048 }, this.log).catch((err: Error) => {
      this.server = undefined
      throw err
    })
    const every = Math.max(100, Math.floor(this.init.idleTimeoutMs / 4))
    this.sweeper = this.c.clock.setInterval(() => { this.sweep() }, every).unref()
    this.log('line protocol on %s:%d', this.address()?.host, this.address()?.port)
  }

  async stop (): Promise<void> {
    const server = this.server
    if (server == null) return
    this.server = undefined
    this.sweeper?.clear()
    for (const conn of [...this.connections]) conn.destroy()
    await new Promise<void>(resolve => { server.close(() => { resolve() }) })
  }

  get openConnections (): number {
    return this.connections.size
  }

  private accept (socket: Socket): void {
    const { metrics } = this.c
    metrics.connectionsTotal.inc()
    if (this.connections.size >= this.init.maxConnections) {
      metrics.errors.inc({ kind: 'connection_cap' })
      socket.on('error', () => {})
      socket.end(answerLine({ ok: false, error: `too many connections (${this.init.maxConnections}); try again later` }), () => { socket.destroy() })
      return
    }
    const conn = new LineConnection(socket, this.c, this.init, () => {
      this.connections.delete(conn)
      metrics.connectionsOpen.set(this.connections.size)
    })
    this.connections.add(conn)
    metrics.connectionsOpen.set(this.connections.size)
  }

  private sweep (): void {
    const now = this.c.clock.now()
    for (const conn of this.connections) conn.closeIfIdle(now, this.init.idleTimeoutMs)
  }
}

/** One JSON answer line. */
function answerLine (answer: Record<string, unknown>): string {
  return JSON.stringify(answer) + '\n'
}

interface Slot { answer?: string }

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** One client: its bytes cut into lines, its requests run and answered in order. */
class LineConnection {
  private readonly socket: Socket
  private readonly c: LineGatewayComponents
  private readonly limits: Required<LineGatewayInit>
  private readonly onClose: () => void
  private readonly abort = new AbortController()
  /** Bytes of the line being received. */
  private partial: Buffer[] = []
  private partialBytes = 0
  /** Inside an over-long line, already answered: skip to its newline. */
  private discarding = false
  /** Complete lines not yet started (about MAX_WAITING_BYTES at most), or answers already known for bad ones. */
  private readonly waiting: Array<Buffer | string> = []
  private waitingBytes = 0
  private waitingHead = 0
  /** Requests started, answers in order of arrival. */
  private readonly slots: Slot[] = []
  private writeBlocked = false
  private corked = false
  private inputEnded = false
  private closed = false
  /** Being closed for idleness. */
  private closing = false
  private lastActivity: number
  /** Made once: a closure per flush would be garbage per request. */
  private readonly uncork = (): void => {
    this.corked = false
    this.socket.uncork()
  }

  constructor (socket: Socket, components: LineGatewayComponents, limits: Required<LineGatewayInit>, onClose: () => void) {
    this.socket = socket
    this.c = components
    this.limits = limits
    this.onClose = onClose
    this.lastActivity = components.clock.now()
    socket.on('data', (chunk: Buffer) => { this.onData(chunk) })
    socket.on('end', () => { this.onEnd() })
    socket.on('drain', () => {
      this.writeBlocked = false
      this.lastActivity = this.c.clock.now()
      this.pump()
    })
    // A reset or any socket error: the close handler cleans up.
    socket.on('error', () => {})
    socket.on('close', () => { this.cleanup() })
  }

  destroy (): void {
    this.socket.destroy()
    this.cleanup()
  }

  /** Closes a connection that sent nothing and awaited nothing (or could not be written to) for `idleMs`. */
  closeIfIdle (now: number, idleMs: number): void {
    if (this.closing || now - this.lastActivity < idleMs) return
    if (this.slots.length > 0 && !this.writeBlocked) return
    this.c.metrics.errors.inc({ kind: 'idle_timeout' })
    this.closing = true
    if (this.writeBlocked) {
      this.destroy()
      return
    }
    this.socket.end(answerLine({ ok: false, error: `idle for ${Math.round(idleMs / 1000)} s; closing` }), () => { this.socket.destroy() })
  }

  private onData (chunk: Buffer): void {
    this.lastActivity = this.c.clock.now()
    let start = 0
    while (start < chunk.length) {
      const newline = chunk.indexOf(10, start)
      const end = newline < 0 ? chunk.length : newline
      if (this.discarding) {
        if (newline >= 0) this.discarding = false
      } else if (this.partialBytes + (end - start) > MAX_LINE_BYTES) {
        this.partial = []
        this.partialBytes = 0
        this.discarding = newline < 0
        this.reject('line_too_long', `line longer than ${MAX_LINE_BYTES} bytes; skipped`)
      } else if (newline < 0) {
        this.partial.push(chunk.subarray(start))
        this.partialBytes += chunk.length - start
      } else {
        const piece = chunk.subarray(start, newline)
        const line = this.partial.length === 0 ? piece : Buffer.concat([...this.partial, piece])
        this.partial = []
        this.partialBytes = 0
        this.queue(line)
      }
      start = end + 1
    }
    this.pump()
  }

  private onEnd (): void {
    this.inputEnded = true
    if (this.partialBytes > 0) {
      this.partial = []
      this.partialBytes = 0
      this.reject('incomplete_line', 'the connection ended inside a line (no newline)')
    }
    this.pump()
  }

  /** An answer with no request behind it, in its place in the order. */
  private reject (kind: string, error: string, id?: RequestId): void {
    this.c.metrics.errors.inc({ kind })
    this.queue(answerLine(withId({ ok: false, error }, id)))
  }

  private queue (item: Buffer | string): void {
    this.waiting.push(item)
    // The newline counts too: a flood of empty lines is bounded like any other.
    this.waitingBytes += item.length + 1
  }

  /** Starts waiting lines while the caps allow, writes finished answers in order, and reads on only if there is room. */
  private pump (): void {
    if (this.closed) return
    // Answers known at once (bad lines) free their slots in flush(): go round until nothing moves.
    for (;;) {
      while (this.waitingHead < this.waiting.length && this.slots.length < this.limits.maxInFlight && !this.writeBlocked) {
        const item = this.waiting[this.waitingHead++]
        this.waitingBytes -= item.length + 1
        this.startLine(item)
      }
      // Drop the started ones now and then: shift() per line would be quadratic on a long queue.
      if (this.waitingHead > 1024 || this.waitingHead === this.waiting.length) {
        this.waiting.splice(0, this.waitingHead)
        this.waitingHead = 0
      }
      const before = this.slots.length
      this.flush()
      if (this.slots.length === before || this.waitingHead === this.waiting.length || this.writeBlocked) break
    }
    const room = this.waitingBytes < MAX_WAITING_BYTES && !this.writeBlocked
    if (room && !this.inputEnded) this.socket.resume()
    else if (!room) this.socket.pause()
    if (this.inputEnded && this.waitingHead === this.waiting.length && this.slots.length === 0 && !this.socket.writableEnded) this.socket.end()
  }

  private startLine (line: Buffer | string): void {
    const slot: Slot = {}
    this.slots.push(slot)
    if (typeof line === 'string') {
      slot.answer = line
      return
    }
    let text: string
    try {
      text = utf8.decode(line)
    } catch {
      this.c.metrics.errors.inc({ kind: 'invalid_utf8' })
      slot.answer = answerLine({ ok: false, error: 'the line is not valid UTF-8' })
      return
    }
    if (text.endsWith('\r')) text = text.slice(0, -1)
    const parsed = parseLine(text)
    if (!parsed.ok) {
      this.c.metrics.errors.inc({ kind: parsed.kind })
      slot.answer = answerLine(withId({ ok: false, error: parsed.error }, parsed.id))
      return
    }
    const { request, id } = parsed
    const { metrics } = this.c
    metrics.requests.inc({ cmd: request.cmd })
    const started = performance.now()
    // One promise and two closures per request: what a request allocates sets how often the
    // young generation is collected, and each collection pauses every connection.
    const answered = (answer: string): void => {
      slot.answer = answer
      metrics.latency.observe({ cmd: request.cmd }, (performance.now() - started) / 1000)
      this.pump()
    }
    this.c.work.run(request, this.abort.signal).then(result => {
      let answer: string
      try {
        answer = successLine(result, id)
      } catch (err: any) {
        metrics.errors.inc({ kind: 'failed' })
        answer = answerLine(withId({ ok: false, error: String(err?.message ?? err) }, id))
      }
      answered(answer)
    }, (err: any) => {
      metrics.errors.inc({ kind: String(err?.kind ?? 'failed') })
      answered(answerLine(withId({ ok: false, error: String(err?.message ?? err) }, id)))
    })
  }

  private flush (): void {
    let out = ''
    for (let head = this.slots[0]; head?.answer != null; head = this.slots[0]) {
      out += head.answer
      this.slots.shift()
    }
    if (out === '' || this.closed || this.socket.writableEnded) return
    this.lastActivity = this.c.clock.now()
    // Answers finished in one turn of the event loop leave in one write (one syscall). With
    // no other request started or waiting, none can follow in this turn: it is written at
    // once, without the cork, the tick and the uncork (a client that sends one line at a time).
    if (!this.corked && (this.slots.length > 0 || this.waitingHead < this.waiting.length)) {
      this.corked = true
      this.socket.cork()
      process.nextTick(this.uncork)
    }
    if (!this.socket.write(out)) this.writeBlocked = true
  }

  private cleanup (): void {
    if (this.closed) return
    this.closed = true
    // Work in the mesh for a client that is gone is cancelled, not finished.
    this.abort.abort(new Error('the client went away'))
    this.waiting.length = 0
    this.waitingHead = 0
    this.waitingBytes = 0
    this.slots.length = 0
    this.partial = []
    this.onClose()
  }
}

/**
 * `{"ok":true,...result,"id":id}` as a line, written from the result's own JSON rather than
 * a copy of it with two more keys (the same text; a result holding `ok` or `id` takes the
 * copy, whose keys then override as a spread's would).
 */
export function successLine (result: Record<string, unknown>, id: RequestId | undefined): string {
  if ('ok' in result || 'id' in result) return answerLine(withId({ ok: true, ...result }, id))
  const body = JSON.stringify(result)
  const tail = id === undefined ? '}\n' : `,"id":${JSON.stringify(id)}}\n`
  return body.length === 2 ? `{"ok":true${tail}` : `{"ok":true,${body.slice(1, -1)}${tail}`
}

function withId (answer: Record<string, unknown>, id: RequestId | undefined): Record<string, unknown> {
  return id === undefined ? answer : { ...answer, id }
}
