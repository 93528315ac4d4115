import { afterEach, describe, expect, it } from 'vitest'
import { countRange, countRangeParallel } from '../../node/compute/primes/index.ts'
import { WorkerPool } from '../../node/compute/worker-pool.ts'
import { poolThreads } from '../utils/threads.ts'
import { waitUntil } from '../utils/wait.ts'

let pool: WorkerPool | null = null
afterEach(async () => { await pool?.close(); pool = null })

describe('WorkerPool', () => {
  it('runs tasks in .ts worker threads and reports capacity', async () => {
    pool = new WorkerPool({ size: 2 })
    expect(pool.capacity()).toEqual({ total: 2, free: 2 })
    const running = [pool.run('pool.spin', { ms: 200, value: 'a' }), pool.run('pool.spin', { ms: 200, value: 'b' }), pool.run('pool.spin', { ms: 10, value: 'c' })]
    expect(pool.capacity()).toEqual({ total: 2, free: 0 })
    expect(pool.queued).toBe(1)
    expect(await Promise.all(running)).toEqual(['a', 'b', 'c'])
    expect(pool.capacity()).toEqual({ total: 2, free: 2 })
  })

  it('cancels queued and running tasks with an AbortSignal and keeps working', async () => {
    pool = new WorkerPool({ size: 1 })
    const controller = new AbortController()
    const running = pool.run('pool.spin', { ms: 60_000, value: 1 }, { signal: controller.signal })
    const queued = pool.run('pool.spin', { ms: 0, value: 2 }, { signal: controller.signal })
    setTimeout(() => { controller.abort() }, 100)
    await expect(running).rejects.toMatchObject({ name: 'AbortError' })
    await expect(queued).rejects.toMatchObject({ name: 'AbortError' })
    expect(await pool.run('pool.spin', { ms: 0, value: 3 })).toBe(3)
    expect(pool.capacity()).toEqual({ total: 1, free: 1 })
  })

  it('passes task errors back by name', async () => {
    pool = new WorkerPool({ size: 1 })
    await expect(pool.run('no.such.task', {})).rejects.toThrow(/unknown worker task/)
    await expect(pool.run('primes.count', { from: 5n, to: 2n ** 64n })).rejects.toMatchObject({ name: 'RangeError' })
  })

  it('rejects work after close', async () => {
    const closed = new WorkerPool({ size: 1 })
    await closed.close()
    await expect(closed.run('pool.spin', { ms: 0, value: 1 })).rejects.toMatchObject({ name: 'PoolClosedError' })
  })
})

describe('WorkerPool threads on demand', () => {
  it('starts no thread until work comes, and advertises its whole capacity all along', async () => {
    pool = new WorkerPool({ size: 2 })
    expect(pool.capacity()).toEqual({ total: 2, free: 2 })
    expect(pool.threads).toBe(0)
    expect(poolThreads()).toBe(0)
    const one = pool.run('pool.spin', { ms: 300, value: 'one' })
    expect(pool.capacity()).toEqual({ total: 2, free: 1 })
    await waitUntil('the first thread', () => poolThreads() === 1)
    expect(await one).toBe('one')
    // One task needed one thread: the second slot is still free without ever having run.
    expect(pool.threads).toBe(1)
    expect(poolThreads()).toBe(1)
    expect(pool.capacity()).toEqual({ total: 2, free: 2 })
  })

  it('lets an idle thread go, and the next task starts a new one', async () => {
    pool = new WorkerPool({ size: 2, idleTimeoutMs: 200 })
    expect(await Promise.all([pool.run('pool.spin', { ms: 50, value: 1 }), pool.run('pool.spin', { ms: 50, value: 2 })])).toEqual([1, 2])
    expect(poolThreads()).toBe(2)
    await waitUntil('the idle threads to end', () => poolThreads() === 0 && pool?.threads === 0)
    expect(pool.capacity()).toEqual({ total: 2, free: 2 })
    expect(await pool.run('primes.count', { from: 0n, to: 1_000_000n })).toMatchObject({ count: 78498n })
    expect(poolThreads()).toBe(1)
  })

  it('keeps a thread that gets work before its idle time is up', async () => {
    pool = new WorkerPool({ size: 1, idleTimeoutMs: 1_000 })
    for (let i = 0; i < 5; i++) expect(await pool.run('pool.spin', { ms: 0, value: i })).toBe(i)
    expect(poolThreads()).toBe(1)
  })
})

describe('WorkerPool urgent tasks', () => {
  it('runs an urgent task on an extra thread while every slot is busy, without changing the capacity', async () => {
    pool = new WorkerPool({ size: 1 })
    const done: string[] = []
    const long = pool.run('pool.spin', { ms: 60_000, value: 'long' }).catch(() => 'stopped')
    const queued = pool.run<string>('pool.spin', { ms: 0, value: 'queued' }).then(v => { done.push(v) }, () => {})
    const urgent = await pool.run('pool.spin', { ms: 0, value: 'urgent' }, { urgent: true })
    expect(urgent).toBe('urgent')
    // The ordinary task still waits behind the long one; the advertised capacity is one slot.
    expect(done).toEqual([])
    expect(pool.queued).toBe(1)
    expect(pool.capacity()).toEqual({ total: 1, free: 0 })
    await pool.close()
    await Promise.allSettled([long, queued])
  })

  it('queues urgent tasks before ordinary ones when there is no extra thread', async () => {
    pool = new WorkerPool({ size: 1, urgentSlots: 0 })
    const order: string[] = []
    const run = (value: string, urgent: boolean): Promise<void> => (pool as WorkerPool).run<string>('pool.spin', { ms: 0, value }, { urgent }).then(v => { order.push(v) })
    const first = pool.run('pool.spin', { ms: 300, value: 'first' }).then(v => { order.push(v as string) })
    await Promise.all([first, run('a', false), run('b', false), run('u1', true), run('u2', true)])
    expect(order).toEqual(['first', 'u1', 'u2', 'a', 'b'])
  })
})

describe('countRangeParallel', () => {
  it('knows pi(1e10) on all cores', { timeout: 120_000 }, async () => {
    let lastDone = 0n
    const result = await countRangeParallel(0n, 10n ** 10n, { details: false, onProgress: (done) => { lastDone = done } })
    expect(result.count).toBe(455052511n)
    expect(lastDone).toBe(10n ** 10n + 1n)
  })

  it('agrees with the single-thread count on sum, first and last', async () => {
    pool = new WorkerPool({ size: 2 })
    const from = 10n ** 15n
    const to = from + 50_000_000n
    const parallel = await countRangeParallel(from, to, { pool })
    const { shards, seconds, workerSeconds, ...totals } = parallel
    expect(shards).toBeGreaterThan(1)
    expect(totals).toEqual(countRange(from, to))
  })
})
