import { createHash, randomBytes } from 'node:crypto'
import type { Stream } from '@libp2p/interface'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { lpStream } from '@libp2p/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { createMeshLibp2p, type MeshLibp2p } from '../../node/libp2p/create-libp2p.ts'
import { waitUntil } from '../utils/wait.ts'

const PROTOCOL = '/mesh-test/yamux-window/1.0.0'
/** Yamux frame types and flags (the Yamux spec's numbers). */
const WINDOW_UPDATE = 1
const FIN = 4
const RST = 8
/** The spec's initial receive window: what a sender may send before its first update. */
const INITIAL_WINDOW = 256 * 1024

/** What one Yamux stream sent and received, frame by frame, as its muxer saw it. */
interface FrameCounts {
  dataFramesReceived: number
  bytesReceived: number
  /** WindowUpdate frames that only grant credit (not the FIN or RST a close sends as one). */
  windowUpdatesSent: number
}

/** Counts the frames of a Yamux stream of libp2p (the object a handler and a dial get). */
function countFrames (stream: Stream): FrameCounts {
  const counts: FrameCounts = { dataFramesReceived: 0, bytesReceived: 0, windowUpdatesSent: 0 }
  const yamux = stream as unknown as {
    sendFrame: (header: { type: number, flag: number, length: number }, data?: unknown) => boolean
    handleData: (frame: { header: { length: number } }) => void
  }
  const sendFrame = yamux.sendFrame
  yamux.sendFrame = (header, data) => {
    if (header.type === WINDOW_UPDATE && (header.flag & (FIN | RST)) === 0) counts.windowUpdatesSent++
    return sendFrame(header, data)
  }
  const handleData = yamux.handleData.bind(stream)
  yamux.handleData = frame => {
    counts.dataFramesReceived++
    counts.bytesReceived += frame.header.length
    handleData(frame)
  }
  return counts
}

async function sendAll (stream: Stream, data: Uint8Array, chunk = 64 * 1024): Promise<void> {
  for (let at = 0; at < data.byteLength; at += chunk) {
    if (!stream.send(data.subarray(at, at + chunk))) await stream.onDrain()
  }
}

async function readBytes (stream: Stream, bytes: number): Promise<string> {
  const hash = createHash('sha256')
  let got = 0
  for await (const part of stream) {
    hash.update(part.subarray())
    got += part.byteLength
    if (got >= bytes) break
  }
  expect(got).toBe(bytes)
  return hash.digest('hex')
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex')

/**
 * Two libp2p nodes built as a mesh node builds them (TCP, Noise, Yamux) on loopback. Yamux
 * tops up a receive window with WindowUpdate frames; each is a frame of its own, so one Noise
 * message and one socket write. These check that small messages do not each cost one, and
 * that flow control still moves large transfers and still holds a paused reader's sender.
 */
describe('yamux window updates over a real TCP connection', () => {
  let nodes: MeshLibp2p[] = []
  afterEach(async () => {
    await Promise.all(nodes.map(async n => { await n.stop() }))
    nodes = []
  })

  async function twoNodes (handler: (stream: Stream) => void): Promise<{ dialer: MeshLibp2p, listener: MeshLibp2p }> {
    const listener = await createMeshLibp2p({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
    nodes.push(listener)
    const dialer = await createMeshLibp2p({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
    nodes.push(dialer)
    await listener.handle(PROTOCOL, handler)
    return { dialer, listener }
  }

  it('sends about one window update per half window of small messages, not one per message', async () => {
    const MESSAGES = 1000
    let counts: FrameCounts | undefined
    let read = 0
    const { dialer, listener } = await twoNodes(stream => {
      counts = countFrames(stream)
      void (async () => {
        const lp = lpStream(stream)
        for (let i = 0; i < MESSAGES; i++) {
          await lp.read()
          read++
        }
      })()
    })
    const stream = await dialer.dialProtocol(listener.getMultiaddrs()[0], PROTOCOL)
    const lp = lpStream(stream)
    const message = new Uint8Array(200).fill(7)
    for (let i = 0; i < MESSAGES; i++) await lp.write(message)
    await waitUntil('the listener to read every message', () => read === MESSAGES)

    // About 200 KiB in all: under one window, so at most an update or two, where one per data
    // frame received (about a thousand; fewer only if a busy sender joined some) is what
    // upstream sends.
    expect(counts?.dataFramesReceived).toBeGreaterThanOrEqual(MESSAGES / 10)
    expect(counts?.windowUpdatesSent).toBeLessThanOrEqual(3)
  })

  it('moves 8 MiB each way at once on one stream, intact', async () => {
    const BYTES = 8 * 1024 * 1024
    const fromDialer = randomBytes(BYTES)
    const fromListener = randomBytes(BYTES)
    let listenerSide: Promise<string> | undefined
    let listenerCounts: FrameCounts | undefined
    const { dialer, listener } = await twoNodes(stream => {
      listenerCounts = countFrames(stream)
      listenerSide = (async () => {
        const [received] = await Promise.all([readBytes(stream, BYTES), sendAll(stream, fromListener)])
        return received
      })()
    })
    const stream = await dialer.dialProtocol(listener.getMultiaddrs()[0], PROTOCOL)
    const dialerCounts = countFrames(stream)
    const started = Date.now()
    const [dialerReceived] = await Promise.all([readBytes(stream, BYTES), sendAll(stream, fromDialer)])
    await waitUntil('the listener to start its side', () => listenerSide != null)
    const listenerReceived = await listenerSide
    const ms = Date.now() - started

    expect(dialerReceived).toBe(sha256(fromListener))
    expect(listenerReceived).toBe(sha256(fromDialer))
    // Far beyond the initial window each way: both senders lived on window updates. (Frames
    // this large each use up half a window or more, so their count says nothing here.)
    for (const counts of [dialerCounts, listenerCounts]) expect(counts?.windowUpdatesSent).toBeGreaterThan(0)
    process.stderr.write(`8 MiB each way in ${ms} ms; window updates sent ${dialerCounts.windowUpdatesSent}/${listenerCounts?.windowUpdatesSent} for ${dialerCounts.dataFramesReceived}/${listenerCounts?.dataFramesReceived} data frames\n`)
  }, 60_000)

  it('holds the sender of a paused reader at one window and lets it finish on resume', async () => {
    const BYTES = 1024 * 1024
    const data = randomBytes(BYTES)
    let counts: FrameCounts | undefined
    let accepted: Stream | undefined
    const { dialer, listener } = await twoNodes(stream => {
      counts = countFrames(stream)
      stream.pause()
      accepted = stream
    })
    const stream = await dialer.dialProtocol(listener.getMultiaddrs()[0], PROTOCOL)
    const sending = sendAll(stream, data)
    // The sender runs out of credit: its data waits in its own buffer.
    await waitUntil('the sender to be held by flow control', () => (counts?.bytesReceived ?? 0) >= INITIAL_WINDOW && stream.writeBufferLength > 0)
    expect(counts?.bytesReceived).toBe(INITIAL_WINDOW)

    const received = readBytes(accepted as Stream, BYTES)
    accepted?.resume()
    await sending
    expect(await received).toBe(sha256(data))
  }, 60_000)
})
