import { MAX_LENGTH_PREFIX_BYTES, MAX_RPC_FRAME_BYTES } from './constants.ts'
import { FrameTooLargeError, TruncatedFrameError } from './errors.ts'

/**
 * Frames are an unsigned varint length followed by that many bytes: the libp2p convention,
 * so `lpStream` from `@libp2p/utils` or `it-length-prefixed` read them as well.
 */
export function encodeFrame (payload: Uint8Array, maxBytes = MAX_RPC_FRAME_BYTES): Uint8Array {
  if (payload.byteLength > maxBytes) {
    throw new FrameTooLargeError('too-large', `frame of ${payload.byteLength} bytes exceeds ${maxBytes}`)
  }
  const prefix = varintLength(payload.byteLength)
  const frame = new Uint8Array(prefix + payload.byteLength)
  let value = payload.byteLength
  let i = 0
  while (value >= 0x80) {
    frame[i++] = (value & 0x7f) | 0x80
    value >>>= 7
  }
  frame[i] = value
  frame.set(payload, prefix)
  return frame
}

function varintLength (value: number): number {
  let n = 1
  while (value >= 0x80) { value >>>= 7; n++ }
  return n
}

/**
 * Splits a byte stream into frames, whatever the chunking. Memory stays bounded: a length
 * prefix above the limit throws before its body is buffered, so at most one frame of the
 * limit is ever held. After a throw the stream cannot be resynchronised: close it.
 */
export class FrameDecoder {
  private readonly maxBytes: number
  private readonly maxPrefixBytes: number
  private pending: Uint8Array = new Uint8Array(0)

  constructor (maxBytes = MAX_RPC_FRAME_BYTES) {
    this.maxBytes = maxBytes
    this.maxPrefixBytes = Math.max(MAX_LENGTH_PREFIX_BYTES, varintLength(maxBytes))
  }

  /** Bytes held for an incomplete frame. */
  get buffered (): number {
    return this.pending.byteLength
  }

  /** Feeds one chunk (or a list of chunks, such as a Uint8ArrayList); returns the frames completed. */
  push (chunk: Uint8Array | Iterable<Uint8Array>): Uint8Array[] {
    const frames: Uint8Array[] = []
    if (chunk instanceof Uint8Array) {
      this.take(chunk, frames)
    } else {
      for (const part of chunk) this.take(part, frames)
    }
    return frames
  }

  /** The stream ended: throws if it stopped inside a frame. */
  end (): void {
    if (this.pending.byteLength > 0) {
      const held = this.pending.byteLength
      this.pending = new Uint8Array(0)
      throw new TruncatedFrameError('truncated', `stream ended ${held} bytes into an incomplete frame`)
    }
  }

  private take (chunk: Uint8Array, frames: Uint8Array[]): void {
    let data = chunk
    if (this.pending.byteLength > 0) {
      data = new Uint8Array(this.pending.byteLength + chunk.byteLength)
      data.set(this.pending, 0)
      data.set(chunk, this.pending.byteLength)
    }
    let offset = 0
    while (offset < data.byteLength) {
      const header = this.readLength(data, offset)
      if (header == null) break
      const start = offset + header.prefix
      const end = start + header.length
      if (end > data.byteLength) break
      // A copy, so a frame never pins the (possibly large) chunk it came in.
      frames.push(data.slice(start, end))
      offset = end
    }
    this.pending = offset === data.byteLength ? new Uint8Array(0) : data.slice(offset)
  }

  /** The varint at `offset`, or null when more bytes are needed. Throws on a bad prefix. */
  private readLength (data: Uint8Array, offset: number): { length: number, prefix: number } | null {
    let length = 0
    for (let i = 0; i < this.maxPrefixBytes; i++) {
      if (offset + i >= data.byteLength) return null
      const byte = data[offset + i]
      length += (byte & 0x7f) * 2 ** (7 * i)
      if ((byte & 0x80) === 0) {
        if (length > this.maxBytes) {
          throw new FrameTooLargeError('too-large', `frame of ${length} bytes exceeds ${this.maxBytes}`)
        }
        return { length, prefix: i + 1 }
      }
    }
    throw new FrameTooLargeError('too-large', `length prefix longer than ${this.maxPrefixBytes} bytes`)
  }
}
