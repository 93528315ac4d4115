import type { Stream } from '@libp2p/interface'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import { STREAM_READ_TIMEOUT_MS } from '../../protocols/chat/index.ts'

/**
 * Length-prefixed frames on a libp2p stream, every read bounded in size and time: a peer
 * that sends too much or nothing at all costs one frame buffer and one timer.
 */
export class FrameStream {
  private readonly lp: LengthPrefixedStream<Stream>
  private readonly stream: Stream
  private readonly timeoutMs: number

  constructor (stream: Stream, maxFrameBytes: number, timeoutMs = STREAM_READ_TIMEOUT_MS) {
    this.stream = stream
    this.lp = lpStream(stream, { maxDataLength: maxFrameBytes })
    this.timeoutMs = timeoutMs
  }

  async read (signal?: AbortSignal): Promise<Uint8Array> {
    const timeout = AbortSignal.timeout(this.timeoutMs)
    const list = await this.lp.read({ signal: signal == null ? timeout : AbortSignal.any([signal, timeout]) })
    return list.subarray()
  }

  async write (bytes: Uint8Array, signal?: AbortSignal): Promise<void> {
    const timeout = AbortSignal.timeout(this.timeoutMs)
    await this.lp.write(bytes, { signal: signal == null ? timeout : AbortSignal.any([signal, timeout]) })
  }

  async close (): Promise<void> {
    await this.stream.close().catch(() => { this.stream.abort(new Error('close failed')) })
  }

  abort (err: Error): void {
    this.stream.abort(err)
  }
}
