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
  /** Bytes of an incomplete frame, as received: joined once the frame is whole, not on every chunk. */
  private pending: Uint8Array[] = []
  private pendingBytes = 0
  /** Prefix plus body of the incomplete frame, once its prefix is known; 0 before. */
  private needed = 0

  constructor (maxBytes = MAX_RPC_FRAME_BYTES) {
    this.maxBytes = maxBytes
    this.maxPrefixBytes = Math.max(MAX_LENGTH_PREFIX_BYTES, varintLength(maxBytes))
  }

  /** Bytes held for an incomplete frame. */
  get buffered (): number {
    return this.pendingBytes
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
    if (this.pendingBytes > 0) {
      const held = this.pendingBytes
      this.pending = []
      this.pendingBytes = 0
      this.needed = 0
      throw new TruncatedFrameError('truncated', `stream ended ${held} bytes into an incomplete frame`)
    }
  }

  private take (chunk: Uint8Array, frames: Uint8Array[]): void {
    if (chunk.byteLength === 0) return
    // Still short of the frame: hold a copy of the chunk and wait. Joining the held bytes on
    // every chunk would cost O(frame²) when a peer dribbles a big frame in tiny pieces.
    if (this.needed > 0 && this.pendingBytes + chunk.byteLength < this.needed) {
      this.pending.push(chunk.slice())
      this.pendingBytes += chunk.byteLength
      return
    }
    let data = chunk
    if (this.pendingBytes > 0) {
      data = new Uint8Array(this.pendingBytes + chunk.byteLength)
      let at = 0
      for (const part of this.pending) { data.set(part, at); at += part.byteLength }
      data.set(chunk, at)
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
    if (offset === data.byteLength) {
      this.pending = []
      this.pendingBytes = 0
      this.needed = 0
      return
    }
    const rest = data.slice(offset)
    this.pending = [rest]
    this.pendingBytes = rest.byteLength
    const header = this.readLength(rest, 0)
    this.needed = header == null ? 0 : header.prefix + header.length
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
