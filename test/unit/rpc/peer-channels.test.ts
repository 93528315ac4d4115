import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Stream } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import { OPEN_TIMEOUT_MS, PeerChannels, type PeerChannelsComponents } from '../../../node/rpc/peer-channels.ts'
import type { RpcMetrics } from '../../../node/rpc/rpc-metrics.ts'
import type { Clock } from '../../../node/time/clock.ts'
import { FakeClock } from '../../../node/time/fake-clock.ts'

type DialingLibp2p = PeerChannelsComponents['libp2p']

/** Just enough of a libp2p stream for a ClientChannel: records whether it was closed. */
class FakeStream extends EventTarget {
  writeStatus = 'writable'
  maxWriteBufferLength?: number
  closed = false
  send (): boolean { return true }
  async close (): Promise<void> { this.closed = true; this.writeStatus = 'closed' }
  abort (): void { this.closed = true; this.writeStatus = 'closed' }
}

interface PendingDial { signal: AbortSignal, resolve: (s: Stream) => void }

/**
 * A libp2p whose dials wait until the test answers them; like the real one, a dial rejects
 * with an AbortError once its signal aborts — unless `ignoreSignal` (a stream that lands anyway).
 */
function fakeLibp2p (ignoreSignal = false): { libp2p: DialingLibp2p, dials: PendingDial[] } {
  const dials: PendingDial[] = []
  const libp2p = {
    dialProtocol: async (_peer: unknown, _protocol: string, { signal }: { signal: AbortSignal }) => await new Promise<Stream>((resolve, reject) => {
      dials.push({ signal, resolve })
      if (ignoreSignal) return
      const onAbort = (): void => { reject(new DOMException('The operation was aborted', 'AbortError')) }
      if (signal.aborted) onAbort()
      else signal.addEventListener('abort', onAbort, { once: true })
    })
  }
  return { libp2p: libp2p as unknown as DialingLibp2p, dials }
}

async function peerId (): Promise<string> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
}

function pool (libp2p: DialingLibp2p, clock?: Clock): PeerChannels {
  const channels = new PeerChannels({ libp2p, metrics: {} as unknown as RpcMetrics, addrsOf: () => [], clock })
  channels.start()
  return channels
}

/** Lets pending promise callbacks run. */
const settle = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

describe('peer channels: the shared stream open', () => {
  it('a caller giving up does not fail another caller waiting on the same open', async () => {
    const { libp2p, dials } = fakeLibp2p()
    const channels = pool(libp2p)
    const peer = await peerId()
    const first = new AbortController()
    const second = new AbortController()
    const a = channels.acquire(peer, first.signal)
    const b = channels.acquire(peer, second.signal)
    a.catch(() => {})
    b.catch(() => {})
    await settle()
    expect(dials).toHaveLength(1)

    first.abort()
    await expect(a).rejects.toMatchObject({ name: 'AbortError' })
    expect(dials[0].signal.aborted).toBe(false)

    const stream = new FakeStream()
    dials[0].resolve(stream as unknown as Stream)
    const channel = await b
    expect(channel.peer).toBe(peer)
    expect(stream.closed).toBe(false)
    channels.stop()
  })

  it('an open that outlives its own timeout fails as DialFailedError (retryable), for every waiter', async () => {
    const { libp2p } = fakeLibp2p()
    const clock = new FakeClock()
    const channels = pool(libp2p, clock)
    const peer = await peerId()
    const a = channels.acquire(peer, new AbortController().signal)
    const b = channels.acquire(peer, new AbortController().signal)
    a.catch(() => {})
    b.catch(() => {})
    await clock.advance(OPEN_TIMEOUT_MS)
    await expect(a).rejects.toMatchObject({ name: 'DialFailedError' })
    await expect(b).rejects.toMatchObject({ name: 'DialFailedError' })
    channels.stop()
  })

  it('a stream that opens after stop() is closed, not added to the pool', async () => {
    const { libp2p, dials } = fakeLibp2p(true)
    const channels = pool(libp2p)
    const peer = await peerId()
    const pending = channels.acquire(peer, new AbortController().signal)
    pending.catch(() => {})
    await settle()
    expect(dials).toHaveLength(1)

    channels.stop()
    const late = new FakeStream()
    dials[0].resolve(late as unknown as Stream)
    await expect(pending).rejects.toMatchObject({ name: 'DialFailedError' })
    expect(late.closed).toBe(true)

    // Nothing of it stayed in the pool: once started again, the next caller opens a stream of its own.
    channels.start()
    const next = channels.acquire(peer, new AbortController().signal)
    await settle()
    expect(dials).toHaveLength(2)
    const fresh = new FakeStream()
    dials[1].resolve(fresh as unknown as Stream)
    await next
    channels.stop()
    expect(fresh.closed).toBe(true)
  })
})

describe('peer channels: lifecycle on the node\'s clock', () => {
  it('start twice keeps one sweep timer; stop clears it; start after stop sets it again', () => {
    const clock = new FakeClock()
    const channels = new PeerChannels({ libp2p: fakeLibp2p().libp2p, metrics: {} as unknown as RpcMetrics, addrsOf: () => [], clock })
    channels.start()
    channels.start()
    expect(clock.pendingTimers).toBe(1)
    channels.stop()
    channels.stop()
    expect(clock.pendingTimers).toBe(0)
    channels.start()
    expect(clock.pendingTimers).toBe(1)
    channels.stop()
  })

  it('no stream opens before start() or after stop()', async () => {
    const { libp2p, dials } = fakeLibp2p()
    const channels = new PeerChannels({ libp2p, metrics: {} as unknown as RpcMetrics, addrsOf: () => [] })
    const peer = await peerId()
    await expect(channels.acquire(peer, new AbortController().signal)).rejects.toMatchObject({ name: 'DialFailedError' })
    channels.start()
    channels.stop()
    await expect(channels.acquire(peer, new AbortController().signal)).rejects.toMatchObject({ name: 'DialFailedError' })
    expect(dials).toHaveLength(0)
  })

  it('closes a channel left idle, when the clock says so', async () => {
    const { libp2p, dials } = fakeLibp2p()
    const clock = new FakeClock()
    const channels = pool(libp2p, clock)
    const peer = await peerId()
    const pending = channels.acquire(peer, new AbortController().signal)
    await settle()
    const stream = new FakeStream()
    dials[0].resolve(stream as unknown as Stream)
    await pending
    await clock.advance(20_000)
    expect(stream.closed).toBe(false)
    await clock.advance(20_000)
    expect(stream.closed).toBe(true)
    channels.stop()
  })
})
