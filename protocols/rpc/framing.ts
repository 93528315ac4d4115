import { LengthPrefixedDecoder } from '@libp2p/utils'
import * as varint from 'uint8-varint'
import { MAX_LENGTH_PREFIX_BYTES, MAX_RPC_FRAME_BYTES } from './constants.ts'
import { FrameTooLargeError, TruncatedFrameError } from './errors.ts'

/**
 * Frames are an unsigned varint length followed by that many bytes: the libp2p convention
 * for length-prefixed streams, so `lpStream` from `@libp2p/utils` reads and writes them too.
 * Encoding and decoding use libp2p's own pieces (uint8-varint, LengthPrefixedDecoder); only
 * the rpc's limits and error names are added here.
 */

/**
 * Bytes a decoder may hold at once: an incomplete frame of the limit plus the chunk that
 * completes it. A chunk is one muxer frame (at most 64 KiB from libp2p's yamux), so only a
 * peer that sends megabytes in one muxer frame ever reaches this.
 */
const READ_BUFFER_BYTES = 4 * MAX_RPC_FRAME_BYTES

/**
 * `bodies` as consecutive frames in one buffer, ready for one write. Throws
 * FrameTooLargeError for a body above `maxBytes`.
 */
export function encodeFrames (bodies: readonly Uint8Array[], maxBytes = MAX_RPC_FRAME_BYTES): Uint8Array {
  let total = 0
  for (const body of bodies) {
    if (body.byteLength > maxBytes) throw new FrameTooLargeError('too-large', `frame of ${body.byteLength} bytes exceeds ${maxBytes}`)
    total += varint.encodingLength(body.byteLength) + body.byteLength
  }
  const out = new Uint8Array(total)
  let offset = 0
  for (const body of bodies) {
    varint.encodeUint8Array(body.byteLength, out, offset)
    offset += varint.encodingLength(body.byteLength)
    out.set(body, offset)
    offset += body.byteLength
  }
  return out
}

/** What the length decoder is handed: the decoder's buffer (a Uint8ArrayList) or one array. */
type Bytes = Parameters<typeof varint.decode>[0]

/**
 * How the length decoder says "the prefix is not all here yet": libp2p's decoder asks again
 * after every frame, so this is thrown at least once per chunk. One shared instance, since
 * building an error (its stack trace) would cost more than decoding the frames.
 */
const INCOMPLETE_PREFIX = new RangeError('incomplete length prefix')

/**
 * Splits a byte stream into frames, whatever the chunking. Memory stays bounded: a length
 * prefix above the limit, or longer than that limit needs, throws before a byte of its body
 * is buffered, so between chunks at most one incomplete frame is held. After a throw the
 * stream cannot be resynchronised: close it.
 */
export class FrameDecoder {
  private readonly decoder: LengthPrefixedDecoder
  private readonly maxBytes: number
  private readonly maxPrefixBytes: number
  private readonly maxBufferBytes: number
  /** Bytes pushed and not yet handed out in a frame. */
  private held = 0
  /** Where the frames of the chunk being decoded go. */
  private out: Uint8Array[] = []

  constructor (maxBytes = MAX_RPC_FRAME_BYTES) {
    this.maxBytes = maxBytes
    this.maxPrefixBytes = Math.max(MAX_LENGTH_PREFIX_BYTES, varint.encodingLength(maxBytes))
    this.maxBufferBytes = Math.max(READ_BUFFER_BYTES, 2 * maxBytes)
    this.decoder = new LengthPrefixedDecoder({
      maxDataLength: maxBytes,
      maxBufferSize: this.maxBufferBytes,
      lengthDecoder: data => this.readLength(data)
    })
  }

  /** Bytes held for an incomplete frame. */
  get buffered (): number {
    return this.held
  }

  /** Feeds one chunk (or a list of chunks, such as a Uint8ArrayList); returns the frames completed. */
  push (data: Uint8Array | Iterable<Uint8Array>): Uint8Array[] {
    const frames: Uint8Array[] = []
    if (data instanceof Uint8Array) {
      this.take(data, frames)
    } else {
      for (const part of data) this.take(part, frames)
    }
    return frames
  }

  /** The stream ended: throws if it stopped inside a frame. */
  end (): void {
    if (this.held > 0) {
      const held = this.held
      this.held = 0
      throw new TruncatedFrameError('truncated', `stream ended ${held} bytes into an incomplete frame`)
    }
  }

  private take (chunk: Uint8Array, frames: Uint8Array[]): void {
    if (chunk.byteLength === 0) return
    this.held += chunk.byteLength
    this.out = frames
    try {
      for (const frame of this.decoder.decode(chunk)) {
        this.held -= varint.encodingLength(frame.byteLength) + frame.byteLength
        // One array per frame; a frame that arrived in one chunk is a view of it, not a copy.
        frames.push(frame.subarray())
      }
    } catch (err) {
      if (err instanceof FrameTooLargeError) throw err
      // The decoder's own limit: more bytes buffered than any legitimate sender produces.
      throw new FrameTooLargeError('too-large', `more than ${this.maxBufferBytes} bytes buffered at once`)
    } finally {
      this.out = []
    }
  }

  /**
   * The length of the frame at the start of `data`; a RangeError while the prefix is still
   * incomplete (the decoder then waits for more bytes). Throws FrameTooLargeError for a
   * length above the limit or a prefix longer than the limit needs.
   */
  private readLength (data: Bytes): number {
    const n = Math.min(data.byteLength, this.maxPrefixBytes)
    let continued = 0
    while (continued < n && (byteAt(data, continued) & 0x80) !== 0) continued++
    if (continued === this.maxPrefixBytes) {
      throw new FrameTooLargeError('too-large', `length prefix longer than ${this.maxPrefixBytes} bytes`)
    }
    if (continued === n) throw INCOMPLETE_PREFIX
    const length = varint.decode(data)
    if (length > this.maxBytes) throw new FrameTooLargeError('too-large', `frame of ${length} bytes exceeds ${this.maxBytes}`)
    if (length === 0) {
      // libp2p's decoder consumes an empty frame on the spot without yielding it. It is still
      // a frame (an invalid message, to be counted as such), so it is handed out from here,
      // in order: the frames before it were taken as the decoder yielded them.
      this.held -= 1
      this.out.push(new Uint8Array(0))
    }
    return length
  }
}

function byteAt (data: Bytes, i: number): number {
  return data instanceof Uint8Array ? data[i] : data.get(i)
}
