import type { Stream } from '@libp2p/interface'

/** Queued bytes that trigger an immediate flush instead of waiting for the end of the tick. */
const FLUSH_AT_BYTES = 64 * 1024

/**
 * Coalesces the frames written during one turn of the event loop into one `stream.send`:
 * one yamux frame, one Noise seal and one socket write for, say, 64 answers instead of 64
 * of each. The flush runs in setImmediate, right after the I/O callbacks that produced
 * the frames, so a lone call waits for no timer.
 */
export class FrameWriter {
  private readonly stream: Stream
  private frames: Uint8Array[] = []
  private bytes = 0
  private scheduled = false

  constructor (stream: Stream) {
    this.stream = stream
  }

  write (frame: Uint8Array): void {
    this.frames.push(frame)
    this.bytes += frame.byteLength
    if (this.bytes >= FLUSH_AT_BYTES) {
      this.flush()
    } else if (!this.scheduled) {
      this.scheduled = true
      setImmediate(() => { this.flush() })
    }
  }

  /** Sends what is queued. Never throws: a closed stream reports itself by its close event. */
  flush (): void {
    this.scheduled = false
    if (this.frames.length === 0) return
    const frames = this.frames
    const bytes = this.bytes
    this.frames = []
    this.bytes = 0
    if (this.stream.writeStatus !== 'writable') return
    let data: Uint8Array
    if (frames.length === 1) {
      data = frames[0]
    } else {
      data = new Uint8Array(bytes)
      let offset = 0
      for (const f of frames) { data.set(f, offset); offset += f.byteLength }
    }
    try {
      this.stream.send(data)
    } catch {}
  }

  /** True when the transport asked us to wait for 'drain' before sending more. */
  get needsDrain (): boolean {
    return this.stream.writableNeedsDrain
  }
}
