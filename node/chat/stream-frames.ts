import type { Stream } from '@libp2p/interface'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import { STREAM_READ_TIMEOUT_MS } from '../../protocols/chat/index.ts'
import type { Clock } from '../time/clock.ts'
import { withTimeout } from './clock-timeout.ts'

export interface FrameStreamInit {
  /** A longer frame is an error before its bytes are buffered. */
  maxFrameBytes: number
  /** Times every read and write. */
  clock: Clock
  timeoutMs?: number
}

/**
 * Length-prefixed frames on a libp2p stream, every read bounded in size and time: a peer
 * that sends too much or nothing at all costs one frame buffer and one timer.
 */
export class FrameStream {
  private readonly lp: LengthPrefixedStream<Stream>
  private readonly stream: Stream
  private readonly clock: Clock
  private readonly timeoutMs: number

  constructor (stream: Stream, init: FrameStreamInit) {
    this.stream = stream
    this.lp = lpStream(stream, { maxDataLength: init.maxFrameBytes })
    this.clock = init.clock
    this.timeoutMs = init.timeoutMs ?? STREAM_READ_TIMEOUT_MS
  }

  async read (signal?: AbortSignal): Promise<Uint8Array> {
    const list = await withTimeout(this.clock, this.timeoutMs, signal, async s => await this.lp.read({ signal: s }))
    return list.subarray()
  }

  async write (bytes: Uint8Array, signal?: AbortSignal): Promise<void> {
    await withTimeout(this.clock, this.timeoutMs, signal, async s => { await this.lp.write(bytes, { signal: s }) })
  }

  async close (): Promise<void> {
    await this.stream.close().catch(() => { this.stream.abort(new Error('close failed')) })
  }

  abort (err: Error): void {
    this.stream.abort(err)
  }
}
