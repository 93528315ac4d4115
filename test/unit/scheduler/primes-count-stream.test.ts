import { describe, expect, it } from 'vitest'
import type { ShardResult } from '../../../node/compute/scheduler/types.ts'
import { PROGRESS_ITEM_EVERY_MS, primesCountMethods, type ShardCounter } from '../../../node/jobs/primes-count-service.ts'
import type { ShardItem } from '../../../node/jobs/shard-wire.ts'
import { MeshMetrics } from '../../../node/metrics/metrics.ts'
import { FakeClock } from '../../../node/time/fake-clock.ts'

const RESULT: ShardResult = { count: 4n, sum: 17n, first: 2n, last: 7n }

/** A shard counter the test drives: it reports progress and finishes when told to. */
function drivenCounter (): { count: ShardCounter, progress: (done: bigint) => void, finish: () => void, fail: (err: Error) => void } {
  const driver = { count: null as any, progress: (_: bigint) => {}, finish: () => {}, fail: (_: Error) => {} }
  driver.count = async (_range: unknown, signal: AbortSignal, onProgress: (done: bigint) => void) => await new Promise((resolve, reject) => {
    driver.progress = onProgress
    driver.finish = () => { resolve({ result: RESULT, seconds: 1.5 }) }
    driver.fail = reject
    signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true })
  })
  return driver
}

function serve (clock: FakeClock, count: ShardCounter, signal = new AbortController().signal): AsyncIterator<ShardItem> {
  const methods = primesCountMethods({ pool: { run: async () => { throw new Error('unused') }, size: 1, queued: 0 }, metrics: new MeshMetrics(), clock }, { count })
  const items = methods.count({ from: '0', to: '10' }, { signal, caller: 'peer', deadline: clock.now() + 60_000 }) as AsyncIterable<ShardItem>
  return items[Symbol.asyncIterator]()
}

/** The next item if one is ready after the clock moved `ms`, else 'nothing'. */
async function afterAdvancing (clock: FakeClock, ms: number, pending: Promise<IteratorResult<ShardItem>>): Promise<IteratorResult<ShardItem> | 'nothing'> {
  let settled: IteratorResult<ShardItem> | undefined
  void pending.then(r => { settled = r }, () => {})
  await clock.advance(ms)
  return settled ?? 'nothing'
}

describe('primes.count stream', () => {
  it('keep-alives while silent, progress at most every 250 ms, then the result; no timer left behind', async () => {
    const clock = new FakeClock()
    const driver = drivenCounter()
    const items = serve(clock, driver.count)
    let next = items.next()
    expect(await afterAdvancing(clock, PROGRESS_ITEM_EVERY_MS - 1, next)).toBe('nothing')
    expect(await afterAdvancing(clock, 1, next)).toEqual({ done: false, value: { type: 'queued' } })

    // Progress right after an item waits its turn: one item per 250 ms, with the latest count.
    driver.progress(1000n)
    next = items.next()
    expect(await afterAdvancing(clock, PROGRESS_ITEM_EVERY_MS - 1, next)).toBe('nothing')
    expect(await afterAdvancing(clock, 1, next)).toEqual({ done: false, value: { type: 'progress', done: '1000' } })
    next = items.next()
    expect(await afterAdvancing(clock, 200, next)).toBe('nothing')
    driver.progress(2000n)
    driver.progress(3000n)
    expect(await afterAdvancing(clock, 0, next)).toBe('nothing')
    expect(await afterAdvancing(clock, PROGRESS_ITEM_EVERY_MS - 200, next)).toEqual({ done: false, value: { type: 'progress', done: '3000' } })

    driver.finish()
    expect(await afterAdvancing(clock, 0, items.next())).toEqual({
      done: false, value: { type: 'result', count: '4', sum: '17', first: '2', last: '7', seconds: 1.5 }
    })
    expect(await items.next()).toEqual({ done: true, value: undefined })
    expect(clock.pendingTimers).toBe(0)
    // The loop that waited for items once left a timer behind per turn: still none after a long shard.
    await clock.advance(10_000)
    expect(clock.pendingTimers).toBe(0)
  })

  it('a caller that stops reading leaves no timer, even while the shard still reports progress', async () => {
    const clock = new FakeClock()
    const driver = drivenCounter()
    const items = serve(clock, driver.count)
    await clock.advance(PROGRESS_ITEM_EVERY_MS)
    expect((await items.next()).value).toEqual({ type: 'queued' })
    await items.return?.()
    expect(clock.pendingTimers).toBe(0)
    await clock.advance(PROGRESS_ITEM_EVERY_MS)
    driver.progress(5n)
    await clock.advance(PROGRESS_ITEM_EVERY_MS * 4)
    expect(clock.pendingTimers).toBe(0)
  })

  it('a failed shard ends the stream with its error and no timer', async () => {
    const clock = new FakeClock()
    const driver = drivenCounter()
    const controller = new AbortController()
    const items = serve(clock, driver.count, controller.signal)
    const next = items.next()
    controller.abort(Object.assign(new Error('caller went away'), { name: 'RpcCancelledError' }))
    await expect(next).rejects.toMatchObject({ name: 'RpcCancelledError' })
    expect(clock.pendingTimers).toBe(0)
  })
})
