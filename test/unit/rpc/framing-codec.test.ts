import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  FrameDecoder, FrameTooLargeError, InvalidRpcFrameError, MAX_RPC_FRAME_BYTES, TruncatedFrameError,
  decodeClientMessage, decodeServerMessage, encodeFrames, encodeRpcMessage
} from '../../../protocols/rpc/index.ts'

const encoder = new TextEncoder()
const json = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value))
const encodeFrame = (body: Uint8Array): Uint8Array => encodeFrames([body])

/** Splits `bytes` at the given cut points (any chunking a network may produce). */
function chunk (bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map(c => c % (bytes.byteLength + 1)))].sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let last = 0
  for (const p of points) { out.push(bytes.subarray(last, p)); last = p }
  out.push(bytes.subarray(last))
  return out
}

describe('rpc framing', () => {
  it('decodes any sequence of frames, however the bytes are chunked', () => {
    fc.assert(fc.property(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 30 }),
      (payloads, cuts) => {
        const stream = new Uint8Array(payloads.reduce((n, p) => n + encodeFrame(p).byteLength, 0))
        let offset = 0
        for (const p of payloads) { const f = encodeFrame(p); stream.set(f, offset); offset += f.byteLength }
        const decoder = new FrameDecoder()
        const frames = chunk(stream, cuts).flatMap(c => decoder.push(c))
        expect(frames).toEqual(payloads)
        expect(() => { decoder.end() }).not.toThrow()
      }))
  })

  it('takes a list of chunks (a Uint8ArrayList) as well as one chunk', () => {
    const frame = encodeFrame(json({ a: 1 }))
    const frames = new FrameDecoder().push([frame.subarray(0, 3), frame.subarray(3)])
    expect(frames).toEqual([json({ a: 1 })])
  })

  it('copies a frame dribbled in one-byte chunks a bounded number of times, not once per chunk', () => {
    // A peer may send a big frame as thousands of tiny yamux frames; joining the held bytes on
    // every chunk would cost O(frame²) and block the event loop.
    const payload = new Uint8Array(64 * 1024).map((_, i) => i & 0xff)
    const frame = encodeFrame(payload)
    const decoder = new FrameDecoder()
    const set = Uint8Array.prototype.set
    let copied = 0
    Uint8Array.prototype.set = function (this: Uint8Array, source: ArrayLike<number>, offset?: number) {
      copied += source.length
      return set.call(this, source, offset)
    }
    let frames: Uint8Array[] = []
    try {
      for (let i = 0; i < frame.byteLength; i++) frames = frames.concat(decoder.push(frame.subarray(i, i + 1)))
    } finally {
      Uint8Array.prototype.set = set
    }
    expect(frames).toEqual([payload])
    expect(decoder.buffered).toBe(0)
    expect(copied).toBeLessThan(4 * frame.byteLength)
  })

  it('rejects an oversized length prefix before buffering its body', () => {
    fc.assert(fc.property(fc.integer({ min: MAX_RPC_FRAME_BYTES + 1, max: 2 ** 21 - 1 }), (length) => {
      const prefix: number[] = []
      let v = length
      while (v >= 0x80) { prefix.push((v & 0x7f) | 0x80); v >>>= 7 }
      prefix.push(v)
      const decoder = new FrameDecoder()
      expect(() => decoder.push(Uint8Array.from(prefix))).toThrow(FrameTooLargeError)
      expect(decoder.buffered).toBeLessThanOrEqual(prefix.length)
    }))
  })

  it('rejects a length prefix longer than any allowed length needs', () => {
    const decoder = new FrameDecoder()
    expect(() => decoder.push(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x01]))).toThrow(FrameTooLargeError)
  })

  it('hands out an empty frame in its place, so it is read (and rejected) like any other', () => {
    const a = json({ a: 1 })
    const b = json({ b: 2 })
    const decoder = new FrameDecoder()
    expect(decoder.push(encodeFrames([a, new Uint8Array(0), b, new Uint8Array(0)]))).toEqual([a, new Uint8Array(0), b, new Uint8Array(0)])
    expect(decoder.buffered).toBe(0)
    expect(() => { decoder.end() }).not.toThrow()
  })

  it('rejects a run of continuation bytes as soon as it is longer than a prefix can be', () => {
    const decoder = new FrameDecoder()
    expect(decoder.push(Uint8Array.from([0x80, 0x80]))).toEqual([])
    expect(() => decoder.push(Uint8Array.from([0x80]))).toThrow(FrameTooLargeError)
  })

  it('refuses to encode a frame above the limit', () => {
    expect(() => encodeFrame(new Uint8Array(MAX_RPC_FRAME_BYTES + 1))).toThrow(FrameTooLargeError)
    expect(encodeFrame(new Uint8Array(MAX_RPC_FRAME_BYTES)).byteLength).toBe(MAX_RPC_FRAME_BYTES + 3)
    expect(() => encodeRpcMessage({ type: 'result', id: 1, result: 'x'.repeat(MAX_RPC_FRAME_BYTES) })).toThrow(FrameTooLargeError)
  })

  it('reports a stream that ends inside a frame as truncated', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 500 }), fc.nat(), (payload, cut) => {
      const frame = encodeFrame(payload)
      const at = 1 + (cut % (frame.byteLength - 1))
      const decoder = new FrameDecoder()
      expect(decoder.push(frame.subarray(0, at))).toEqual([])
      expect(() => { decoder.end() }).toThrow(TruncatedFrameError)
    }))
  })

  it('never throws anything but an InvalidRpcFrameError on random bytes, and never holds more than a frame', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 2000 }), { maxLength: 10 }), (chunks) => {
      const decoder = new FrameDecoder()
      try {
        for (const c of chunks) {
          for (const frame of decoder.push(c)) {
            try { decodeClientMessage(frame) } catch (err) { expect(err).toBeInstanceOf(InvalidRpcFrameError) }
          }
          expect(decoder.buffered).toBeLessThanOrEqual(MAX_RPC_FRAME_BYTES + 3)
        }
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidRpcFrameError)
      }
    }))
  })
})

describe('rpc message codec', () => {
  const request = { type: 'request', id: 7, service: 'calc', method: 'sum', args: [1, 2], deadlineMs: 1000 }

  it('a readable id with a deeply nested type is refused by name, with the id to answer', () => {
    const depth = 100_000
    const frame = encoder.encode(`{"id":5,"type":${'['.repeat(depth)}${']'.repeat(depth)}}`)
    expect(frame.byteLength).toBeLessThan(MAX_RPC_FRAME_BYTES)
    for (const decode of [decodeClientMessage, decodeServerMessage]) {
      let caught: unknown
      try { decode(frame) } catch (err) { caught = err }
      expect(caught).toBeInstanceOf(InvalidRpcFrameError)
      expect(caught).toMatchObject({ reason: 'bad-type', id: 5 })
    }
  })

  it('round-trips requests and every server message', () => {
    fc.assert(fc.property(fc.nat(), fc.jsonValue(), (id, value) => {
      const frames = new FrameDecoder().push(encodeFrame(encodeRpcMessage({ type: 'request', id, service: 'calc', method: 'sum', args: value, deadlineMs: 5 })))
      const decoded = decodeClientMessage(frames[0])
      expect(decoded).toEqual({ type: 'request', id, service: 'calc', method: 'sum', args: JSON.parse(JSON.stringify(value)) ?? null, deadlineMs: 5 })
      expect(decodeServerMessage(encodeRpcMessage({ type: 'item', id, value: 1 }))).toEqual({ type: 'item', id, value: 1 })
    }))
    expect(decodeServerMessage(json({ type: 'result', id: 1, result: null }))).toEqual({ type: 'result', id: 1, result: null })
    expect(decodeServerMessage(json({ type: 'end', id: 1 }))).toEqual({ type: 'end', id: 1 })
    expect(decodeServerMessage(json({ type: 'error', id: 1, error: { name: 'X', message: 'y' } }))).toEqual({ type: 'error', id: 1, error: { name: 'X', message: 'y' } })
    expect(decodeClientMessage(json({ type: 'cancel', id: 3 }))).toEqual({ type: 'cancel', id: 3 })
  })

  it.each([
    ['bad-utf8', Uint8Array.from([0xff, 0xfe])],
    ['bad-json', encoder.encode('{"type":')],
    ['bad-shape', json([1, 2])],
    ['bad-id', json({ ...request, id: -1 })],
    ['bad-id', json({ ...request, id: 1.5 })],
    ['bad-id', json({ ...request, id: '7' })],
    ['bad-type', json({ ...request, type: 'result' })],
    ['bad-field', json({ ...request, service: 42 })],
    ['bad-field', json({ ...request, service: 'Calc' })],
    ['bad-field', json({ ...request, method: 'x'.repeat(33) })],
    ['bad-field', json({ ...request, deadlineMs: 0 })],
    ['bad-field', json({ ...request, deadlineMs: '100' })],
    ['bad-field', json({ ...request, deadlineMs: 10 * 60 * 60 * 1000 })]
  ])('rejects a request with %s', (reason, bytes) => {
    try {
      decodeClientMessage(bytes)
      expect.unreachable()
    } catch (err: any) {
      expect(err.name).toBe('InvalidRpcFrameError')
      expect(err.reason).toBe(reason)
    }
  })

  it('keeps the id of a request whose other fields are wrong, so it can be answered', () => {
    try {
      decodeClientMessage(json({ ...request, service: 7 }))
      expect.unreachable()
    } catch (err: any) {
      expect(err.id).toBe(7)
    }
  })

  it('rejects server messages with wrong types', () => {
    for (const bad of [
      { type: 'request', id: 1 },
      { type: 'result', id: 1 },
      { type: 'item', id: 1 },
      { type: 'error', id: 1, error: 'boom' },
      { type: 'error', id: 1, error: { name: '', message: 'x' } },
      { type: 'error', id: 1, error: { name: 'X', message: 'x'.repeat(1025) } }
    ]) {
      expect(() => decodeServerMessage(json(bad))).toThrow(InvalidRpcFrameError)
    }
  })

  it('rejects wrong types anywhere in a request, whatever they are', () => {
    const notAName = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string()), fc.string().filter(s => !/^[a-z][a-z0-9_-]{0,31}$/.test(s)))
    fc.assert(fc.property(notAName, (value) => {
      expect(() => decodeClientMessage(json({ ...request, service: value }))).toThrow(InvalidRpcFrameError)
      expect(() => decodeClientMessage(json({ ...request, method: value }))).toThrow(InvalidRpcFrameError)
    }))
  })
})
