import type { Stream } from '@libp2p/interface'
import {
  FrameDecoder, InvalidRpcFrameError, MAX_INVALID_FRAMES_PER_STREAM, MAX_REQUESTS_PER_STREAM,
  ResultTooLargeError, TooManyRequestsError, TruncatedFrameError, decodeClientMessage, encodeRpcMessage, toErrorBody,
  type RpcRequest, type RpcServerMessage
} from '../../protocols/rpc/index.ts'
import type { Log } from '../logging/logger.ts'
import type { Clock, Timer } from '../time/clock.ts'
import { FrameWriter } from './frame-writer.ts'
import { runHandler, type HandlerRun } from './handler-runner.ts'
import type { RpcMetrics } from './rpc-metrics.ts'
import type { ServiceRegistry } from './service-registry.ts'

/**
 * Bytes queued for sending on one stream before it is reset: a caller that stops reading
 * must not make the server buffer its answers without bound.
 */
const MAX_WRITE_BUFFER_BYTES = 4 * 1024 * 1024
/**
 * A frame must arrive whole within this long of its first byte. A largest frame (1 MiB) needs
 * only 100 KiB/s for it; a peer that announces a big frame and then trickles would otherwise
 * hold the stream and its buffer for ever.
 */
export const FRAME_DEADLINE_MS = 10_000

export interface ServerSessionInit {
  stream: Stream
  caller: string
  registry: ServiceRegistry
  metrics: RpcMetrics
  clock: Clock
  /** The server's log. */
  log: Log
  /** Fires when the server stops: every handler of the session is aborted. */
  stopSignal: AbortSignal
  onClose: () => void
}

/**
 * One inbound rpc stream: reads request frames, runs up to MAX_REQUESTS_PER_STREAM
 * handlers at once, writes their answers as they come (interleaved by id), aborts a
 * handler on cancel, and aborts all of them when the stream closes (the caller went away).
 */
export class ServerSession {
  private readonly stream: Stream
  private readonly caller: string
  private readonly registry: ServiceRegistry
  private readonly metrics: RpcMetrics
  private readonly clock: Clock
  private readonly log: Log
  private readonly stopSignal: AbortSignal
  private readonly decoder = new FrameDecoder()
  private readonly writer: FrameWriter
  private readonly inflight = new Map<number, HandlerRun>()
  private invalidFrames = 0
  private closed = false
  /** Runs while a frame has begun to arrive and is not complete. */
  private partialFrameTimer?: Timer

  constructor (init: ServerSessionInit) {
    this.stream = init.stream
    this.caller = init.caller
    this.registry = init.registry
    this.metrics = init.metrics
    this.clock = init.clock
    this.log = init.log
    this.stopSignal = init.stopSignal
    this.stream.maxWriteBufferLength = MAX_WRITE_BUFFER_BYTES
    this.writer = new FrameWriter(init.stream)
    this.stream.addEventListener('message', evt => { this.onData(evt.data) })
    this.stream.addEventListener('close', () => {
      this.closed = true
      this.partialFrameTimer?.clear()
      for (const run of this.inflight.values()) run.cancel(new Error('the caller closed the stream'))
      this.inflight.clear()
      init.onClose()
    })
    // The caller finished sending: answer what is in flight, then close our side too.
    this.stream.addEventListener('remoteCloseWrite', () => {
      try {
        this.decoder.end()
      } catch (err: any) {
        this.metrics.drop(err?.reason ?? 'truncated')
      }
      void this.closeWhenIdle()
    })
  }

  get requestsInFlight (): number {
    return this.inflight.size
  }

  private onData (data: Uint8Array | Iterable<Uint8Array>): void {
    let frames: Uint8Array[]
    try {
      frames = this.decoder.push(data)
    } catch (err: any) {
      // A bad length prefix: the rest of the stream cannot be framed any more.
      this.metrics.drop(err?.reason ?? 'bad-frame')
      this.log('resetting the rpc stream from %s: %s', this.caller, err?.message)
      this.stream.abort(err)
      return
    }
    this.watchPartialFrame(frames.length > 0)
    for (const frame of frames) this.onFrame(frame)
  }

  /** Starts the frame deadline when a frame begins, restarts it when one completed. */
  private watchPartialFrame (completedOne: boolean): void {
    if (completedOne || this.decoder.buffered === 0) {
      this.partialFrameTimer?.clear()
      this.partialFrameTimer = undefined
    }
    if (this.decoder.buffered === 0 || this.partialFrameTimer != null || this.closed) return
    this.partialFrameTimer = this.clock.setTimeout(() => {
      this.metrics.drop('frame-timeout')
      this.log('resetting the rpc stream from %s: a frame incomplete after %d ms', this.caller, FRAME_DEADLINE_MS)
      this.stream.abort(new TruncatedFrameError('frame-timeout', `a frame was not complete within ${FRAME_DEADLINE_MS} ms`))
    }, FRAME_DEADLINE_MS)
  }

  private onFrame (frame: Uint8Array): void {
    let message: ReturnType<typeof decodeClientMessage>
    try {
      message = decodeClientMessage(frame)
    } catch (err: any) {
      this.metrics.drop(err instanceof InvalidRpcFrameError ? err.reason : 'bad-frame')
      // Answer a readable id so its caller is not left waiting for the deadline.
      if (err instanceof InvalidRpcFrameError && err.id != null && !this.inflight.has(err.id)) {
        this.send({ type: 'error', id: err.id, error: toErrorBody(err) })
      }
      if (++this.invalidFrames > MAX_INVALID_FRAMES_PER_STREAM) {
        this.metrics.drop('too-many-invalid-frames')
        this.log('resetting the rpc stream from %s: more than %d invalid frames', this.caller, MAX_INVALID_FRAMES_PER_STREAM)
        this.stream.abort(new InvalidRpcFrameError('too-many-invalid', 'too many invalid frames'))
      }
      return
    }
    if (message.type === 'cancel') {
      const run = this.inflight.get(message.id)
      if (run != null) {
        this.inflight.delete(message.id)
        run.cancel(new Error('cancelled by the caller'))
      }
      return
    }
    this.onRequest(message)
  }

  private onRequest (request: RpcRequest): void {
    const { id } = request
    if (this.inflight.has(id)) {
      // Two calls cannot share an id; answering would confuse the caller about which one.
      this.metrics.drop('duplicate-id')
      return
    }
    if (this.inflight.size >= MAX_REQUESTS_PER_STREAM) {
      this.metrics.drop('too-many-requests')
      this.send({ type: 'error', id, error: toErrorBody(new TooManyRequestsError(`more than ${MAX_REQUESTS_PER_STREAM} requests in flight on one stream`)) })
      return
    }
    let entry: ReturnType<ServiceRegistry['lookup']>
    try {
      entry = this.registry.lookup(request.service, request.method)
    } catch (err) {
      this.metrics.requestServed('unknown', 'failed', 0)
      this.send({ type: 'error', id, error: toErrorBody(err) })
      return
    }
    const started = performance.now()
    const run = runHandler(entry, { args: request.args, caller: this.caller, deadlineMs: request.deadlineMs }, {
      result: value => { this.finish(id, { type: 'result', id, result: value }) },
      item: async value => { await this.sendItem(id, value) },
      end: () => { this.finish(id, { type: 'end', id }) },
      error: err => { this.finish(id, { type: 'error', id, error: toErrorBody(err) }) }
    }, { clock: this.clock, stopSignal: this.stopSignal })
    this.inflight.set(id, run)
    void run.done.then(outcome => {
      // A run the server's stop cancelled answers nothing, so finish() never forgot it: do it
      // here, or closeWhenIdle() would wait for it forever.
      if (this.inflight.get(id) === run) this.inflight.delete(id)
      this.metrics.requestServed(entry.key, outcome, performance.now() - started)
    })
  }

  private finish (id: number, message: RpcServerMessage): void {
    if (this.inflight.get(id) == null) return
    this.inflight.delete(id)
    this.send(message)
  }

  private async sendItem (id: number, value: unknown): Promise<void> {
    if (!this.inflight.has(id)) return
    this.send({ type: 'item', id, value })
    if (this.writer.needsDrain && !this.closed) await this.stream.onDrain().catch(() => {})
  }

  /** Queues one frame for this tick's write. Never throws. */
  private send (message: RpcServerMessage): void {
    if (this.closed || this.stream.writeStatus !== 'writable') return
    let frame: Uint8Array
    try {
      frame = encodeRpcMessage(message)
    } catch (err: any) {
      if (message.type === 'error') {
        this.metrics.drop('unencodable-error')
        return
      }
      this.metrics.drop(err?.reason ?? 'unencodable')
      const tooLarge = new ResultTooLargeError(`the answer does not fit in a frame (${String(err?.message)}); stream it instead`)
      frame = encodeRpcMessage({ type: 'error', id: message.id, error: toErrorBody(tooLarge) })
      this.inflight.get(message.id)?.cancel(tooLarge)
      this.inflight.delete(message.id)
    }
    this.writer.write(frame)
  }

  /** The server stopped: sends what is queued and closes the stream. */
  close (): void {
    if (this.closed) return
    this.writer.flush()
    void this.stream.close().catch(() => { this.stream.abort(new Error('close failed')) })
  }

  private async closeWhenIdle (): Promise<void> {
    while (this.inflight.size > 0 && !this.closed) {
      await Promise.race([...this.inflight.values()].map(async r => await r.done))
    }
    this.writer.flush()
    if (!this.closed) await this.stream.close().catch(() => {})
  }
}
