import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { callNode } from '../../cli/control-client.ts'
import { createMeshLibp2p, type MeshLibp2p } from '../../node/libp2p/create-libp2p.ts'
import { MAX_INBOUND_STREAMS_PER_PEER, MAX_RPC_FRAME_BYTES, RPC_PROTOCOL } from '../../protocols/rpc/index.ts'
import { counter, MeshProcess, waitUntil } from '../utils/mesh-process.ts'
import { testNodePrefix } from '../utils/test-node.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()
/** A node's counters and gauges as `mesh stats --json` shows them: name, then label set. */
type Metrics = Record<string, Record<string, number>>
/**
 * How long the target's calc/text/greeter handlers take. Far longer than any wait below, so a
 * call counted as cancelled within one was aborted, not merely finished late.
 */
const SLOW_HANDLER_MS = 60_000

/**
 * A hostile or broken peer on /mesh/rpc/1.0.0: a raw libp2p node in the test process opens
 * streams to a real node and writes junk. The node must drop and count it, answer what
 * carries a readable id, and keep serving.
 *
 * One node serves every test; each test gets a new raw peer (so no per-peer state carries
 * over), checks counters by how much they moved, and leaves nothing running behind it.
 */
describe('rpc: bad input from a peer', () => {
  let target: MeshProcess
  let raw: MeshLibp2p
  let metricsBefore: Metrics

  beforeAll(async () => {
    // Slow handlers, so a call is still running when the test cancels it or walks away.
    target = await MeshProcess.start({ name: 'target', args: ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0'], prefix: testNodePrefix({ taskDelayMs: SLOW_HANDLER_MS }) })
  })

  afterAll(async () => {
    await target?.destroy()
  })

  beforeEach(async () => {
    raw = await createMeshLibp2p({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
    await raw.dial(multiaddr(target.bootstrapAddr))
    metricsBefore = await metrics()
  })

  afterEach(async () => {
    // Closing the peer's connection ends its streams; the node aborts what they still ran.
    await raw?.stop()
    await waitUntil('the node to have no request in flight', async () => await counter(target, 'mesh_rpc_requests_in_flight') === 0, 10_000)
  })

  const open = async (): Promise<Stream> => await raw.dialProtocol(peerIdFromString(target.id), RPC_PROTOCOL)
  const frame = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value))
  const read = async (stream: Stream): Promise<any> => {
    const bytes = await lpStream(stream, { maxDataLength: MAX_RPC_FRAME_BYTES }).read({ signal: AbortSignal.timeout(15_000) })
    return JSON.parse(decoder.decode(bytes.subarray()))
  }
  async function metrics (): Promise<Metrics> {
    return (await callNode(target.home, 'stats')).metrics
  }
  /** How much this test moved counter `name`, by label set (the ones it did not move left out). */
  async function countedHere (name: string): Promise<Record<string, number>> {
    const before = metricsBefore[name] ?? {}
    const now = (await metrics())[name] ?? {}
    return Object.fromEntries(Object.entries(now).flatMap(([labels, n]) => n > (before[labels] ?? 0) ? [[labels, n - (before[labels] ?? 0)]] : []))
  }
  const droppedHere = async (): Promise<Record<string, number>> => await countedHere('mesh_rpc_dropped_total')
  const cancelled = async (method: string): Promise<number> => (await countedHere('mesh_rpc_requests_total'))[`method=${method},outcome=cancelled`] ?? 0
  const inFlight = async (): Promise<number> => await counter(target, 'mesh_rpc_requests_in_flight')
  const closed = async (stream: Stream): Promise<void> => {
    await waitUntil('the node to close the stream', async () => stream.status !== 'open', 10_000, 20)
  }
  /** The node still serves: this peer on a new stream, and its own user through `mesh call`. */
  async function expectServes (): Promise<void> {
    const stream = await open()
    await lpStream(stream).write(frame({ type: 'request', id: 1, service: 'rpc', method: 'ping', args: 'still here', deadlineMs: 5000 }))
    expect(await read(stream)).toEqual({ type: 'result', id: 1, result: 'still here' })
    await stream.close()
    const local = await callNode(target.home, 'rpc.call', { service: 'rpc', method: 'ping', args: 'and here' })
    expect(local).toMatchObject({ result: 'and here', peer: target.id })
  }

  it('a third-party client with lpStream gets answers, and named errors for unknown names', async () => {
    const stream = await open()
    const lp = lpStream(stream)
    await lp.write(frame({ type: 'request', id: 1, service: 'rpc', method: 'ping', args: { hi: 1 }, deadlineMs: 5000 }))
    expect(await read(stream)).toEqual({ type: 'result', id: 1, result: { hi: 1 } })
    await lp.write(frame({ type: 'request', id: 2, service: 'nosuch', method: 'x', args: null, deadlineMs: 5000 }))
    expect(await read(stream)).toMatchObject({ type: 'error', id: 2, error: { name: 'UnknownServiceError' } })
    await lp.write(frame({ type: 'request', id: 3, service: 'calc', method: 'nope', args: null, deadlineMs: 5000 }))
    expect(await read(stream)).toMatchObject({ type: 'error', id: 3, error: { name: 'UnknownMethodError' } })
    await stream.close()
    expect(await droppedHere()).toEqual({})
  })

  it('well-framed garbage is dropped and counted; a readable id gets an error back', async () => {
    const stream = await open()
    const lp = lpStream(stream)
    await lp.write(encoder.encode('this is not json'))
    await lp.write(Uint8Array.from([0xff, 0xfe, 0x00]))
    await lp.write(frame([1, 2, 3]))
    await lp.write(frame({ type: 'request', id: 9, service: 42, method: 'sum', deadlineMs: 5000 }))
    expect(await read(stream)).toMatchObject({ type: 'error', id: 9, error: { name: 'InvalidRpcFrameError' } })
    // A type nested so deep that printing it would overflow the stack: still answered.
    const depth = 100_000
    await lp.write(encoder.encode(`{"id":11,"type":${'['.repeat(depth)}${']'.repeat(depth)}}`))
    expect(await read(stream)).toMatchObject({ type: 'error', id: 11, error: { name: 'InvalidRpcFrameError' } })
    // The stream still works after that.
    await lp.write(frame({ type: 'request', id: 10, service: 'rpc', method: 'ping', args: 'ok', deadlineMs: 5000 }))
    expect(await read(stream)).toEqual({ type: 'result', id: 10, result: 'ok' })
    expect(await droppedHere()).toEqual({ 'reason=bad-json': 1, 'reason=bad-utf8': 1, 'reason=bad-shape': 1, 'reason=bad-field': 1, 'reason=bad-type': 1 })
    await stream.close()
    await expectServes()
  })

  it('an oversized frame or a garbage length prefix resets that stream only', async () => {
    const big = await open()
    // A prefix announcing MAX + 1 bytes, then a little of the body.
    let n = MAX_RPC_FRAME_BYTES + 1
    const prefix: number[] = []
    while (n >= 0x80) { prefix.push((n & 0x7f) | 0x80); n >>>= 7 }
    prefix.push(n)
    big.send(Uint8Array.from([...prefix, 1, 2, 3]))
    await closed(big)

    const junk = await open()
    junk.send(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))
    await closed(junk)

    const truncated = await open()
    truncated.send(Uint8Array.from([50, 1, 2, 3]))
    await truncated.close()
    await waitUntil('the truncated frame to be counted', async () => (await droppedHere())['reason=truncated'] === 1, 10_000)
    expect(await droppedHere()).toEqual({ 'reason=too-large': 2, 'reason=truncated': 1 })
    await expectServes()
  })

  it('more streams than the per-peer cap: the one past it is refused and counted, and the cap frees up', async () => {
    const streams: Stream[] = []
    for (let i = 0; i < MAX_INBOUND_STREAMS_PER_PEER; i++) streams.push(await open())
    // The node may refuse the extra stream during negotiation or reset it right after.
    const extra = await open().catch(() => undefined)
    if (extra != null) await closed(extra)
    await waitUntil('the refused stream to be counted', async () => (await droppedHere())['reason=too-many-streams'] === 1, 10_000)
    expect(streams.every(s => s.status === 'open')).toBe(true)
    // The cap counts open streams, not a lifetime total: with one closed, a new one is served.
    await streams[0].close()
    await waitUntil('the node to close its side too', () => streams[0].status === 'closed', 10_000, 20)
    await expectServes()
    expect(await droppedHere()).toEqual({ 'reason=too-many-streams': 1 })
  })

  it('cancel frames and callers that go away abort the handler', async () => {
    const stream = await open()
    const lp = lpStream(stream)
    await lp.write(frame({ type: 'request', id: 1, service: 'calc', method: 'sum', args: [1], deadlineMs: 10 * SLOW_HANDLER_MS }))
    await waitUntil('the node to be running the call', async () => await inFlight() === 1, 10_000, 20)
    await lp.write(frame({ type: 'cancel', id: 1 }))
    await waitUntil('the cancelled call to be counted', async () => await cancelled('calc.sum') === 1, 10_000)

    const walkAway = await open()
    await lpStream(walkAway).write(frame({ type: 'request', id: 1, service: 'calc', method: 'max', args: [1], deadlineMs: 10 * SLOW_HANDLER_MS }))
    await waitUntil('the node to be running the call', async () => await inFlight() === 1, 10_000, 20)
    walkAway.abort(new Error('the caller went away'))
    await waitUntil('the abandoned call to be counted', async () => await cancelled('calc.max') === 1, 10_000)
    await stream.close()
    await expectServes()
  })
})
