import { describe, expect, it } from 'vitest'
import { ConnectionLostError, RemoteRpcError } from '../../../protocols/rpc/index.ts'
import type { MemberLike } from '../../../node/rpc/balancer.ts'
import type { CallListener } from '../../../node/rpc/client-channel.ts'
import { RpcClient, type RpcTransport } from '../../../node/rpc/rpc-client.ts'
import { systemClock, type Clock } from '../../../node/time/clock.ts'
import { FakeClock } from '../../../node/time/fake-clock.ts'

type Behaviour = (listener: CallListener, args: unknown) => void

const member = (id: string, load = 0, services = ['calc.sum'], state: MemberLike['state'] = 'alive'): MemberLike =>
  ({ id, state, load, workers: { total: 2, free: 2 }, services })

/** A transport whose peers behave as the test says; records who was called. */
function fakeTransport (behaviours: Record<string, Behaviour>): RpcTransport & { calls: string[], cancelled: string[] } {
  const calls: string[] = []
  const cancelled: string[] = []
  return {
    calls,
    cancelled,
    inflight: () => 0,
    start: async (peer, _service, _method, args, _deadlineMs, listener) => {
      calls.push(peer)
      const behave = behaviours[peer] ?? (l => { l.onError(new ConnectionLostError('no such peer')) })
      queueMicrotask(() => { behave(listener, args) })
      return () => { cancelled.push(peer) }
    }
  }
}

const answers = (value: unknown): Behaviour => l => { l.onResult(value) }
const loses: Behaviour = l => { l.onError(new ConnectionLostError('connection closed')) }
const remote = (name: string): Behaviour => l => { l.onError(new RemoteRpcError(name, `${name} happened`, 'x')) }
const hangs: Behaviour = () => {}

/** The system clock, except that the waits between attempts are recorded, not waited. */
function client (transport: RpcTransport, members: MemberLike[], sleeps: number[] = [], selfId = 'me'): RpcClient {
  const clock: Clock = { ...systemClock, sleep: async ms => { sleeps.push(ms) } }
  return new RpcClient({ transport, members: () => members, selfId, clock }, { random: () => 0 })
}

describe('rpc client: balancing, retry, fallback', () => {
  it('answers from a peer offering the method, and says which', async () => {
    const t = fakeTransport({ a: answers(100) })
    const reply = await client(t, [member('a'), member('b', 0, ['text.uppercase'])]).call('calc', 'sum', [1])
    expect(reply).toEqual({ result: 100, peer: 'a', attempts: 1 })
  })

  it('NoPeerForServiceError when no live peer offers it', async () => {
    const t = fakeTransport({})
    const members = [member('a', 0, ['calc.sum'], 'dead'), member('b', 0, ['calc.sum'], 'suspect'), member('c', 0, ['text.uppercase'])]
    await expect(client(t, members).call('calc', 'sum', [1])).rejects.toMatchObject({ name: 'NoPeerForServiceError' })
    expect(t.calls).toEqual([])
  })

  it('falls back to another peer when an idempotent call loses its connection, after a jittered backoff', async () => {
    const t = fakeTransport({ a: loses, b: answers(3) })
    const sleeps: number[] = []
    const reply = await client(t, [member('a', 0), member('b', 0.5)], sleeps).call('calc', 'sum', [1, 2], { idempotent: true })
    expect(reply).toEqual({ result: 3, peer: 'b', attempts: 2 })
    expect(t.calls).toEqual(['a', 'b'])
    expect(sleeps).toHaveLength(1)
  })

  it('does not retry a non-idempotent call that may have run', async () => {
    const t = fakeTransport({ a: loses, b: answers(3) })
    await expect(client(t, [member('a', 0), member('b', 0.5)]).call('calc', 'sum', [1], { idempotent: false })).rejects.toMatchObject({ name: 'ConnectionLostError' })
    expect(t.calls).toEqual(['a'])
  })

  it('retries any call the peer refused without running it (busy)', async () => {
    const t = fakeTransport({ a: remote('TooManyRequestsError'), b: answers('ok') })
    const reply = await client(t, [member('a', 0), member('b', 0.5)]).call('calc', 'sum', [1], { idempotent: false })
    expect(reply.peer).toBe('b')
  })

  it('treats errors of the method itself as final', async () => {
    const t = fakeTransport({ a: remote('InvalidArgumentsError'), b: answers(3) })
    await expect(client(t, [member('a', 0), member('b', 0.5)]).call('calc', 'sum', ['x'], { idempotent: true })).rejects.toMatchObject({ name: 'InvalidArgumentsError' })
    expect(t.calls).toEqual(['a'])
  })

  it('tries another peer when one does not serve what it advertised, but not the same one again', async () => {
    const t = fakeTransport({ a: remote('UnknownMethodError'), b: answers(1) })
    expect((await client(t, [member('a', 0), member('b', 0.5)]).call('calc', 'sum', [1])).peer).toBe('b')
    const pinned = fakeTransport({ a: remote('UnknownMethodError') })
    await expect(client(pinned, [member('a')]).call('calc', 'sum', [1], { peer: 'a' })).rejects.toMatchObject({ name: 'UnknownMethodError' })
    expect(pinned.calls).toEqual(['a'])
  })

  it('AllAttemptsFailedError after maxAttempts, listing each attempt', async () => {
    const t = fakeTransport({ a: loses, b: loses, c: loses })
    const members = [member('a', 0), member('b', 0.1), member('c', 0.2)]
    const err: any = await client(t, members).call('calc', 'sum', [1], { idempotent: true, maxAttempts: 3 }).catch(e => e)
    expect(err.name).toBe('AllAttemptsFailedError')
    expect(err.attempts.map((a: any) => a.peer).sort()).toEqual(['a', 'b', 'c'])
    expect(err.attempts.every((a: any) => a.error.name === 'ConnectionLostError')).toBe(true)
  })

  it('falls back when an attempt outlives its share of the deadline, and cancels it', async () => {
    const t = fakeTransport({ a: hangs, b: answers('late but fine') })
    const reply = await client(t, [member('a', 0), member('b', 0.5)]).call('calc', 'sum', [1], { idempotent: true, deadlineMs: 3000, attemptTimeoutMs: 50 })
    expect(reply).toMatchObject({ result: 'late but fine', peer: 'b', attempts: 2 })
    expect(t.cancelled).toEqual(['a'])
  })

  it('stays on a pinned peer and skips excluded ones', async () => {
    const t = fakeTransport({ a: answers('a'), b: answers('b') })
    const c = client(t, [member('a', 0), member('b', 0.9)])
    expect((await c.call('calc', 'sum', [1], { peer: 'b' })).peer).toBe('b')
    expect((await c.call('calc', 'sum', [1], { exclude: ['a'] })).peer).toBe('b')
    await expect(c.call('calc', 'sum', [1], { exclude: ['a', 'b'] })).rejects.toMatchObject({ name: 'NoPeerForServiceError' })
  })

  it('cancels on the caller\'s signal', async () => {
    const t = fakeTransport({ a: hangs })
    const controller = new AbortController()
    const pending = client(t, [member('a')]).call('calc', 'sum', [1], { signal: controller.signal })
    setTimeout(() => { controller.abort() }, 10)
    await expect(pending).rejects.toMatchObject({ name: 'RpcCancelledError' })
    expect(t.cancelled).toEqual(['a'])
  })

  it('streams items; retries before the first item only', async () => {
    const streaming: Behaviour = l => { l.onItem(1); l.onItem(2); l.onEnd() }
    const t = fakeTransport({ a: loses, b: streaming })
    const items: unknown[] = []
    for await (const item of client(t, [member('a', 0), member('b', 0.5)]).stream('calc', 'sum', null, { idempotent: true })) items.push(item)
    expect(items).toEqual([1, 2])

    const breaksMidway: Behaviour = l => { l.onItem(1); l.onError(new ConnectionLostError('gone')) }
    const t2 = fakeTransport({ a: breaksMidway, b: streaming })
    const seen: unknown[] = []
    const run = async (): Promise<void> => {
      for await (const item of client(t2, [member('a', 0), member('b', 0.5)]).stream('calc', 'sum', null, { idempotent: true })) seen.push(item)
    }
    await expect(run()).rejects.toMatchObject({ name: 'ConnectionLostError' })
    expect(seen).toEqual([1])
    expect(t2.calls).toEqual(['a'])
  })

  it('checks its options', async () => {
    const c = client(fakeTransport({}), [member('a')])
    await expect(c.call('calc', 'sum', [], { deadlineMs: 0 })).rejects.toMatchObject({ name: 'InvalidArgumentsError' })
    await expect(c.call('calc', 'sum', [], { maxAttempts: 0 })).rejects.toMatchObject({ name: 'InvalidArgumentsError' })
  })

  it('times attempts and the waits between them on its clock', async () => {
    const clock = new FakeClock()
    const t = fakeTransport({ a: hangs, b: answers('b') })
    // random 0.75: the balancer tries a first; the first backoff is 0.75 × 20 ms = 15 ms.
    const c = new RpcClient({ transport: t, members: () => [member('b'), member('a')], selfId: 'me', clock }, { random: () => 0.75 })
    let reply: unknown
    const pending = c.call('calc', 'sum', [1], { idempotent: true, deadlineMs: 3000, attemptTimeoutMs: 1000 }).then(r => { reply = r })
    await clock.advance(999)
    expect(t.calls).toEqual(['a'])
    await clock.advance(1)
    expect(t.cancelled).toEqual(['a'])
    await clock.advance(14)
    expect(t.calls).toEqual(['a'])
    await clock.advance(1)
    await pending
    expect(t.calls).toEqual(['a', 'b'])
    expect(reply).toMatchObject({ result: 'b', peer: 'b', attempts: 2 })
  })
})
