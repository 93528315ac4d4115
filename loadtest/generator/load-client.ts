import { connect, type Socket } from 'node:net'
import type { Histogram } from 'hdr-histogram-js'
import { errorKindOf, type ErrorCounts, type ErrorKind } from './error-kinds.ts'
import type { Exchange } from './exchanges.ts'

/** Bytes read at most at once per connection. */
const READ_BUFFER_BYTES = 64 * 1024

/** What every client of one run shares. */
export interface RunState {
  readonly host: string
  readonly port: number
  /** Messages per client, or Infinity. */
  readonly messages: number
  /** performance.now() after which no message is sent (Infinity without a duration). */
  stopAt: number
  /** Open loop: ms between one client's messages; 0 for closed loop. */
  readonly intervalMs: number
  /** Open loop: ms between the first messages of consecutive clients, spreading them over an interval. */
  readonly phaseMs: number
  readonly histogram: Histogram
  readonly errors: ErrorCounts
  answered: number
  sent: number
}

/**
 * One connection of the load generator, with at most one message in flight.
 *
 * Closed loop: send, wait for the whole answer, send again; latency from the send.
 * Open loop (wrk2): message k is due at connect + phase + k·interval. When the previous
 * answer came late, the next message goes at once and its latency counts from when it was
 * due, so a server that stalls is charged for every message it held up (coordinated
 * omission corrected). When the client was idle and merely woke late on its own timer, the
 * latency counts from the actual send: the generator's timer is not the server's fault.
 */
export class LoadClient {
  /** performance.now() since when an answer (or the connect) is awaited; -1 when idle. */
  waitingSince = -1
  readonly done: Promise<void>
  private readonly index: number
  private readonly run: RunState
  private readonly exchange: Exchange
  private socket: Socket | null = null
  private finished = false
  private sentHere = 0
  private latencyBase = 0
  private firstDue = 0
  private timer: NodeJS.Timeout | null = null
  private resolveDone: () => void = () => {}

  constructor (index: number, run: RunState, exchange: Exchange) {
    this.index = index
    this.run = run
    this.exchange = exchange
    this.done = new Promise(resolve => { this.resolveDone = resolve })
  }

  start (): void {
    if (this.finished) return
    this.waitingSince = performance.now()
    // onread: the answers land in one buffer per client, reused, without the stream
    // machinery's Buffer and event per read; the generator then costs less than the server.
    const socket = connect({
      host: this.run.host,
      port: this.run.port,
      noDelay: true,
      onread: { buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES), callback: (length: number, buffer: Uint8Array) => { this.onData(buffer as Buffer, length); return true } }
    })
    this.socket = socket
    socket.on('connect', () => {
      this.waitingSince = -1
      this.firstDue = performance.now() + this.index * this.run.phaseMs
      this.sendNext()
    })
    socket.on('error', err => { this.fail(errorKindOf(err)) })
    socket.on('close', () => {
      // The server closed while this client still had an answer due or messages to send.
      if (!this.finished) this.fail('closed')
    })
  }

  /** Called by the run's sweeper: fails the client when its answer is overdue. */
  checkTimeout (now: number, timeoutMs: number): void {
    if (this.waitingSince >= 0 && now - this.waitingSince > timeoutMs) this.fail('timeout')
  }

  /** Ends the client without counting an error (the run's time is up). */
  stop (): void {
    if (this.finished) return
    this.finish()
    this.socket?.destroy()
  }

  private sendNext (): void {
    if (this.sentHere >= this.run.messages) { this.finish(); this.socket?.end(); return }
    const now = performance.now()
    if (now >= this.run.stopAt) { this.stop(); return }
    if (this.run.intervalMs === 0) { this.send(now, now); return }
    const due = this.firstDue + this.sentHere * this.run.intervalMs
    if (due >= this.run.stopAt) { this.stop(); return }
    if (due <= now) { this.send(due, now); return }
    this.timer = setTimeout(() => {
      this.timer = null
      const at = performance.now()
      this.send(at, at)
    }, due - now)
  }

  private send (latencyBase: number, now: number): void {
    if (this.finished || this.socket == null) return
    this.latencyBase = latencyBase
    this.waitingSince = now
    this.sentHere++
    this.run.sent++
    this.socket.write(this.exchange.next())
  }

  private onData (buffer: Buffer, length: number): void {
    if (this.finished) return
    if (this.waitingSince < 0) { this.fail(this.exchange.unexpected); return }
    const verdict = this.exchange.take(buffer, length)
    if (verdict === 'more') return
    if (verdict !== 'done') { this.fail(verdict); return }
    const now = performance.now()
    this.waitingSince = -1
    this.run.answered++
    this.run.histogram.recordValue(Math.max(1, Math.round((now - this.latencyBase) * 1000)))
    this.sendNext()
  }

  private fail (kind: ErrorKind): void {
    if (this.finished) return
    this.run.errors[kind]++
    this.finish()
    this.socket?.destroy()
  }

  private finish (): void {
    this.finished = true
    this.waitingSince = -1
    if (this.timer != null) clearTimeout(this.timer)
    this.timer = null
    this.resolveDone()
  }
}
