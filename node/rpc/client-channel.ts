import type { Stream } from '@libp2p/interface'
import {
  ConnectionLostError, FrameDecoder, InvalidRpcFrameError, MAX_REQUESTS_PER_STREAM, RemoteRpcError,
  decodeServerMessage, encodeRpcMessage, type RpcServerMessage
} from '../../protocols/rpc/index.ts'
import type { Log } from '../logging/logger.ts'
import type { Clock } from '../time/clock.ts'
import { FrameWriter } from './frame-writer.ts'
import type { RpcMetrics } from './rpc-metrics.ts'

/** How one call on a channel hears back. Exactly one of onResult / onEnd / onError fires. */
export interface CallListener {
  onResult: (value: unknown) => void
  onItem: (value: unknown) => void
  onEnd: () => void
  onError: (err: Error) => void
}

/** Requests queued for sending before the stream is reset (see the server's twin limit). */
const MAX_WRITE_BUFFER_BYTES = 4 * 1024 * 1024

export interface ClientChannelInit {
  /** An outbound `/mesh/rpc/1.0.0` stream, just opened. */
  stream: Stream
  /** The peer at the other end. */
  peer: string
  metrics: RpcMetrics
  /** Dates the channel's last activity, so the pool can close it when idle. */
  clock: Clock
  /** The pool's log. */
  log: Log
  /** Called once, when the stream closes for any reason. */
  onClose: (channel: ClientChannel) => void
}

/**
 * One long-lived outbound rpc stream carrying many calls, told apart by request id, so a
 * call costs one frame each way instead of a stream negotiation (about 1 ms on loopback).
 * When the stream closes every call still on it fails with ConnectionLostError.
 */
export class ClientChannel {
  readonly peer: string
  private readonly stream: Stream
  private readonly metrics: RpcMetrics
  private readonly clock: Clock
  private readonly log: Log
  private readonly decoder = new FrameDecoder()
  private readonly writer: FrameWriter
  private readonly pending = new Map<number, CallListener>()
  private nextId = 1
  private closed = false
  /** Local clock time of the last call started or answered: idle channels get closed. */
  lastActiveAt: number

  constructor (init: ClientChannelInit) {
    const { stream, peer, onClose } = init
    this.stream = stream
    this.peer = peer
    this.metrics = init.metrics
    this.clock = init.clock
    this.log = init.log
    this.lastActiveAt = this.clock.now()
    stream.maxWriteBufferLength = MAX_WRITE_BUFFER_BYTES
    this.writer = new FrameWriter(stream)
    stream.addEventListener('message', evt => { this.onData(evt.data) })
    stream.addEventListener('close', evt => {
      this.closed = true
      const reason = evt.error?.message ?? 'closed'
      this.failAll(new ConnectionLostError(`rpc stream to ${peer} closed: ${reason}`))
      onClose(this)
    })
    // The server closed its side: nothing more will be answered on this stream.
    stream.addEventListener('remoteCloseWrite', () => {
      this.closed = true
      this.failAll(new ConnectionLostError(`peer ${peer} closed the rpc stream`))
      void stream.close().catch(() => {})
    })
  }

  get inflight (): number {
    return this.pending.size
  }

  /** Open and below the per-stream request limit. */
  get hasRoom (): boolean {
    return !this.closed && this.stream.writeStatus === 'writable' && this.pending.size < MAX_REQUESTS_PER_STREAM
  }

  get isClosed (): boolean {
    return this.closed || this.stream.writeStatus !== 'writable'
  }

  /** Sends a request; returns its id for cancel(). Throws if the request cannot be framed. */
  request (service: string, method: string, args: unknown, deadlineMs: number, listener: CallListener): number {
    if (this.isClosed) throw new ConnectionLostError(`rpc stream to ${this.peer} is closed`)
    const id = this.nextId++
    // `undefined` is not JSON and would vanish from the request: send null.
    const frame = encodeRpcMessage({ type: 'request', id, service, method, args: args === undefined ? null : args, deadlineMs })
    this.pending.set(id, listener)
    this.lastActiveAt = this.clock.now()
    this.writer.write(frame)
    return id
  }

  /** The caller gave up on `id`: forget it and tell the server to abort the handler. */
  cancel (id: number): void {
    if (!this.pending.delete(id) || this.isClosed) return
    this.writer.write(encodeRpcMessage({ type: 'cancel', id }))
  }

  close (): void {
    if (this.closed) return
    this.closed = true
    this.failAll(new ConnectionLostError(`rpc stream to ${this.peer} closed locally`))
    this.writer.flush()
    void this.stream.close().catch(() => { this.stream.abort(new Error('close failed')) })
  }

  private onData (data: Uint8Array | Iterable<Uint8Array>): void {
    let frames: Uint8Array[]
    try {
      frames = this.decoder.push(data)
    } catch (err: any) {
      this.metrics.drop(`client-${String(err?.reason ?? 'bad-frame')}`)
      this.log('resetting the rpc stream to %s: %s', this.peer, err?.message)
      this.stream.abort(err)
      return
    }
    for (const frame of frames) {
      let message: RpcServerMessage
      try {
        message = decodeServerMessage(frame)
      } catch (err: any) {
        this.metrics.drop(`client-${err instanceof InvalidRpcFrameError ? err.reason : 'bad-frame'}`)
        // A garbled answer to a known id fails that call rather than leaving it to time out.
        if (err instanceof InvalidRpcFrameError && err.id != null) this.settle(err.id)?.onError(err)
        continue
      }
      this.onMessage(message)
    }
  }

  private onMessage (message: RpcServerMessage): void {
    this.lastActiveAt = this.clock.now()
    if (message.type === 'item') {
      this.pending.get(message.id)?.onItem(message.value)
      return
    }
    // Answers to calls already cancelled or timed out land here too: ignored.
    const listener = this.settle(message.id)
    if (listener == null) return
    switch (message.type) {
      case 'result': listener.onResult(message.result); break
      case 'end': listener.onEnd(); break
      case 'error': listener.onError(new RemoteRpcError(message.error.name, message.error.message, this.peer)); break
    }
  }

  private settle (id: number): CallListener | undefined {
    const listener = this.pending.get(id)
    this.pending.delete(id)
    return listener
  }

  private failAll (err: Error): void {
    const listeners = [...this.pending.values()]
    this.pending.clear()
    for (const l of listeners) l.onError(err)
  }
}
