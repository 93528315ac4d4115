import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callNode } from '../../cli/control-client.ts'
import { createMeshLibp2p, type MeshLibp2p } from '../../node/libp2p/create-libp2p.ts'
import { MAX_INBOUND_STREAMS_PER_PEER, MAX_RPC_FRAME_BYTES, RPC_PROTOCOL } from '../../protocols/rpc/index.ts'
import { MeshProcess, sleep, waitUntil } from '../utils/mesh-process.ts'
import { runMesh } from '../utils/run-mesh.ts'
import { testNodePrefix } from '../utils/test-node.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/**
 * A hostile or broken peer on /mesh/rpc/1.0.0: a raw libp2p node in the test process opens
 * streams to a real node and writes junk. The node must drop and count it, answer what
 * carries a readable id, and keep serving everyone else.
 */
describe('rpc: bad input from a peer', () => {
  let target: MeshProcess
  let raw: MeshLibp2p

  beforeAll(async () => {
    // Slow handlers, so a call is still running when the test cancels it or walks away.
    target = await MeshProcess.start({ name: 'target', args: ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0'], prefix: testNodePrefix({ taskDelayMs: 3000 }) })
    raw = await createMeshLibp2p({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
    await raw.dial(multiaddr(target.bootstrapAddr))
  })

  afterAll(async () => {
    await raw?.stop()
    await target?.destroy()
  })

  const open = async (): Promise<Stream> => await raw.dialProtocol(peerIdFromString(target.id), RPC_PROTOCOL)
  const frame = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value))
  const read = async (stream: Stream): Promise<any> => {
    const bytes = await lpStream(stream, { maxDataLength: MAX_RPC_FRAME_BYTES }).read({ signal: AbortSignal.timeout(15_000) })
    return JSON.parse(decoder.decode(bytes.subarray()))
  }
  const dropped = async (): Promise<Record<string, number>> => (await callNode(target.home, 'stats')).metrics.mesh_rpc_dropped_total ?? {}
  const served = async (): Promise<Record<string, number>> => (await callNode(target.home, 'stats')).metrics.mesh_rpc_requests_total ?? {}
  const closed = async (stream: Stream): Promise<void> => {
    await waitUntil('the node to close the stream', async () => stream.status !== 'open', 10_000, 20)
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
  })

  it('well-framed garbage is dropped and counted; a readable id gets an error back', async () => {
    const stream = await open()
    const lp = lpStream(stream)
    await lp.write(encoder.encode('this is not json'))
    await lp.write(Uint8Array.from([0xff, 0xfe, 0x00]))
    await lp.write(frame([1, 2, 3]))
    await lp.write(frame({ type: 'request', id: 9, service: 42, method: 'sum', deadlineMs: 5000 }))
    expect(await read(stream)).toMatchObject({ type: 'error', id: 9, error: { name: 'InvalidRpcFrameError' } })
    // The stream still works after that.
    await lp.write(frame({ type: 'request', id: 10, service: 'rpc', method: 'ping', args: 'ok', deadlineMs: 5000 }))
    expect(await read(stream)).toEqual({ type: 'result', id: 10, result: 'ok' })
    const drops = await dropped()
    expect(drops['reason=bad-json']).toBeGreaterThanOrEqual(1)
    expect(drops['reason=bad-utf8']).toBeGreaterThanOrEqual(1)
    expect(drops['reason=bad-shape']).toBeGreaterThanOrEqual(1)
    expect(drops['reason=bad-field']).toBeGreaterThanOrEqual(1)
    await stream.close()
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
    await waitUntil('the truncated frame to be counted', async () => ((await dropped())['reason=truncated'] ?? 0) >= 1, 10_000)
    expect((await dropped())['reason=too-large']).toBeGreaterThanOrEqual(2)
  })

  it('more streams than the per-peer cap: the extra ones are refused and counted', async () => {
    const streams: Stream[] = []
    for (let i = 0; i < MAX_INBOUND_STREAMS_PER_PEER + 2; i++) {
      try { streams.push(await open()) } catch {}
    }
    await waitUntil('a refused stream to be counted', async () => ((await dropped())['reason=too-many-streams'] ?? 0) >= 1, 10_000)
    await Promise.all(streams.map(async s => { await s.close().catch(() => {}) }))
  })

  it('cancel frames and callers that go away abort the handler', async () => {
    const stream = await open()
    const lp = lpStream(stream)
    await lp.write(frame({ type: 'request', id: 1, service: 'calc', method: 'sum', args: [1], deadlineMs: 10_000 }))
    await sleep(300)
    await lp.write(frame({ type: 'cancel', id: 1 }))
    await waitUntil('the cancelled call to be counted', async () => ((await served())['method=calc.sum,outcome=cancelled'] ?? 0) >= 1, 10_000)

    const walkAway = await open()
    await lpStream(walkAway).write(frame({ type: 'request', id: 1, service: 'calc', method: 'max', args: [1], deadlineMs: 10_000 }))
    await sleep(300)
    walkAway.abort(new Error('the caller went away'))
    await waitUntil('the abandoned call to be counted', async () => ((await served())['method=calc.max,outcome=cancelled'] ?? 0) >= 1, 10_000)
    await stream.close()
  })

  it('after all that the node still runs and serves', async () => {
    const run = await runMesh(['call', 'greeter.hello', '"Hello"', '--json', '--home', target.home])
    expect(run.code).toBe(0)
    expect(JSON.parse(run.stdout)).toEqual({ result: 'World', peer: target.id })
    const stream = await open()
    await lpStream(stream).write(frame({ type: 'request', id: 1, service: 'rpc', method: 'ping', args: null, deadlineMs: 5000 }))
    expect(await read(stream)).toEqual({ type: 'result', id: 1, result: null })
    await stream.close()
  })
})
