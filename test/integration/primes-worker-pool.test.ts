import { afterEach, describe, expect, it } from 'vitest'
import { countRange, countRangeParallel } from '../../node/compute/primes/index.ts'
import { WorkerPool } from '../../node/compute/worker-pool.ts'

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
