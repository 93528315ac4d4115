import type { Stream } from '@libp2p/interface'
import { lpStream, streamPair } from '@libp2p/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { defaultLogger } from '../../../node/logging/logger.ts'
import { MeshMetrics } from '../../../node/metrics/metrics.ts'
import { ClientChannel, type CallListener } from '../../../node/rpc/client-channel.ts'
import { RpcMetrics } from '../../../node/rpc/rpc-metrics.ts'
import { FRAME_DEADLINE_MS, ServerSession } from '../../../node/rpc/server-session.ts'
import { ServiceRegistry } from '../../../node/rpc/service-registry.ts'
import { FakeClock } from '../../../node/time/fake-clock.ts'
import { encodeFrames, MAX_RPC_FRAME_BYTES } from '../../../protocols/rpc/index.ts'

/**
 * One rpc stream, both ends in this process: a ClientChannel on the outbound end of an
 * in-memory stream pair (the @libp2p/utils mock muxer) and a ServerSession on the inbound
 * end, each on a fake clock.
 */
interface Pair {
  client: ClientChannel
  outbound: Stream
  inbound: Stream
  clock: FakeClock
  stop: AbortController
  sends: { client: number, server: number }
}

const log = defaultLogger.forComponent('test')
const open: Stream[] = []

afterEach(() => {
  for (const s of open.splice(0)) s.abort(new Error('test over'))
})

function registry (): ServiceRegistry {
  const r = new ServiceRegistry(new Set())
  r.register('rpc', { ping: (args: unknown) => args }, { idempotent: true })
  // Answers only when aborted (its deadline, a cancel, the server's stop).
  r.register('slow', {
    wait: async (_args, ctx) => await new Promise((_resolve, reject) => {
      ctx.signal.addEventListener('abort', () => { reject(ctx.signal.reason) })
    })
  })
  return r
}

/** Counts the `send`s a stream makes: one per flush of its frame writer. */
function countSends (stream: Stream, count: (n: number) => void): void {
  const send = stream.send.bind(stream)
  let n = 0
  stream.send = data => { count(++n); return send(data) }
}

async function pair (): Promise<Pair> {
  const [outbound, inbound] = await streamPair()
  open.push(outbound, inbound)
  const clock = new FakeClock()
  const metrics = new RpcMetrics(new MeshMetrics())
  const stop = new AbortController()
  const sends = { client: 0, server: 0 }
  countSends(outbound, n => { sends.client = n })
  countSends(inbound, n => { sends.server = n })
  // The session lives on the stream's listeners; nothing else needs to hold it.
  new ServerSession({ stream: inbound, caller: 'caller', registry: registry(), metrics, clock, log, stopSignal: stop.signal, onClose: () => {} })
  const client = new ClientChannel({ stream: outbound, peer: 'server', metrics, clock, log, onClose: () => {} })
  return { client, outbound, inbound, clock, stop, sends }
}

/** A listener whose outcome is a promise: the result, the items and end, or the error. */
function listen (): CallListener & { outcome: Promise<unknown> } {
  let resolve!: (v: unknown) => void
  let reject!: (e: unknown) => void
  const outcome = new Promise((res, rej) => { resolve = res; reject = rej })
  outcome.catch(() => {})
  return { outcome, onResult: resolve, onItem: () => {}, onEnd: () => { resolve(undefined) }, onError: reject }
}

describe('an rpc stream: client channel and server session', () => {
  it('answers every call; the frames written in one turn leave in one send', async () => {
    const { client, sends } = await pair()
    const calls = Array.from({ length: 20 }, (_, i) => {
      const l = listen()
      client.request('rpc', 'ping', { i }, 5000, l)
      return l.outcome
    })
    expect(await Promise.all(calls)).toEqual(Array.from({ length: 20 }, (_, i) => ({ i })))
    expect(sends.client).toBe(1)
  })

  it('a third-party client with lpStream reads and writes the same frames', async () => {
    const { outbound } = await pair()
    const lp = lpStream(outbound, { maxDataLength: MAX_RPC_FRAME_BYTES })
    const json = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v))
    await lp.writeV([
      json({ type: 'request', id: 1, service: 'rpc', method: 'ping', args: 'a', deadlineMs: 5000 }),
      json({ type: 'request', id: 2, service: 'rpc', method: 'nope', args: null, deadlineMs: 5000 })
    ])
    const answers = [JSON.parse(new TextDecoder().decode((await lp.read()).subarray())), JSON.parse(new TextDecoder().decode((await lp.read()).subarray()))]
    expect(answers).toContainEqual({ type: 'result', id: 1, result: 'a' })
    expect(answers).toContainEqual(expect.objectContaining({ type: 'error', id: 2, error: expect.objectContaining({ name: 'UnknownMethodError' }) }))
  })

  it('a handler that outlives its deadline is aborted and answers DeadlineExceededError, on the node\'s clock', async () => {
    const { client, clock } = await pair()
    const l = listen()
    client.request('slow', 'wait', null, 5000, l)
    await expect.poll(() => clock.pendingTimers).toBe(1)
    await clock.advance(4999)
    let settled = false
    void l.outcome.then(() => { settled = true }, () => { settled = true })
    await new Promise(resolve => setTimeout(resolve, 20))
    expect(settled).toBe(false)
    await clock.advance(1)
    await expect(l.outcome).rejects.toMatchObject({ name: 'DeadlineExceededError' })
  })

  it('a caller that closed its side, then the server stopping: the session closes its stream', async () => {
    const { client, inbound, stop } = await pair()
    const l = listen()
    client.request('slow', 'wait', null, 60_000, l)
    // The caller goes away gracefully while its call runs: the session waits for the call.
    client.close()
    await expect.poll(() => inbound.remoteWriteStatus).toBe('closed')
    // The stop cancels the call, which then answers nothing; the session must not wait on.
    stop.abort()
    await expect.poll(() => inbound.writeStatus).toBe('closed')
  })

  it('a frame announced big and then trickled is dropped at its deadline: the stream is reset and counted', async () => {
    const [outbound, inbound] = await streamPair()
    open.push(outbound, inbound)
    const clock = new FakeClock()
    const meshMetrics = new MeshMetrics()
    new ServerSession({ stream: inbound, caller: 'caller', registry: registry(), metrics: new RpcMetrics(meshMetrics), clock, log, stopSignal: new AbortController().signal, onClose: () => {} })
    const timedOut = async (): Promise<number> => (await meshMetrics.snapshot()).mesh_rpc_dropped_total?.['reason=frame-timeout'] ?? 0

    // A whole frame: no deadline left running.
    outbound.send(encodeFrames([new TextEncoder().encode('{"type":"cancel","id":1}')]))
    await expect.poll(() => clock.pendingTimers).toBe(0)

    // A prefix that announces a 1 MiB frame, then a few bytes now and then.
    const prefix = encodeFrames([new Uint8Array(MAX_RPC_FRAME_BYTES)]).subarray(0, 3)
    outbound.send(prefix)
    await expect.poll(() => clock.pendingTimers).toBe(1)
    for (let ms = 0; ms < FRAME_DEADLINE_MS - 1000; ms += 1000) {
      outbound.send(new Uint8Array(10))
      await clock.advance(1000)
    }
    expect(inbound.status).toBe('open')
    expect(await timedOut()).toBe(0)
    await clock.advance(1000)
    await expect.poll(() => inbound.status).not.toBe('open')
    expect(await timedOut()).toBe(1)
  })
})
