import { describe, expect, it } from 'vitest'
import { backoffDelay } from '../../../node/time/backoff.ts'
import { systemClock } from '../../../node/time/clock.ts'
import { FakeClock } from '../../../node/time/fake-clock.ts'

describe('FakeClock', () => {
  it('fires timers in due order as time advances, each seeing its own due time', async () => {
    const clock = new FakeClock(1000)
    const fired: Array<[string, number]> = []
    clock.setTimeout(() => fired.push(['b', clock.now()]), 200)
    clock.setTimeout(() => fired.push(['a', clock.now()]), 100)
    const cancelled = clock.setTimeout(() => fired.push(['x', clock.now()]), 150)
    cancelled.clear()
    await clock.advance(150)
    expect(fired).toEqual([['a', 1100]])
    await clock.advance(100)
    expect(fired).toEqual([['a', 1100], ['b', 1200]])
    expect(clock.now()).toBe(1250)
    expect(clock.pendingTimers).toBe(0)
  })

  it('repeats intervals until cleared and resolves sleeps; an abort rejects a sleep', async () => {
    const clock = new FakeClock(0)
    let ticks = 0
    const interval = clock.setInterval(() => { ticks++ }, 10)
    await clock.advance(35)
    expect(ticks).toBe(3)
    interval.clear()
    await clock.advance(100)
    expect(ticks).toBe(3)

    let woke = false
    const sleeping = clock.sleep(50).then(() => { woke = true })
    await clock.advance(49)
    expect(woke).toBe(false)
    await clock.advance(1)
    await sleeping
    expect(woke).toBe(true)

    const controller = new AbortController()
    const aborted = clock.sleep(50, controller.signal)
    controller.abort(new Error('stop'))
    await expect(aborted).rejects.toThrow('stop')
    expect(clock.pendingTimers).toBe(0)
  })
})

describe('backoffDelay with equal jitter', () => {
  it('waits between half and one and a half times the ceiling', () => {
    expect(backoffDelay(1, { baseMs: 1000, capMs: 30_000, jitter: 'equal', random: () => 0 })).toBe(500)
    expect(backoffDelay(3, { baseMs: 1000, capMs: 30_000, jitter: 'equal', random: () => 0.999 })).toBe(5996)
    expect(backoffDelay(20, { baseMs: 1000, capMs: 30_000, jitter: 'equal', random: () => 0.5 })).toBe(30_000)
  })
})

describe('systemClock.sleep', () => {
  it('waits, and an abort rejects with the signal\'s reason', async () => {
    const started = performance.now()
    await systemClock.sleep(20)
    expect(performance.now() - started).toBeGreaterThanOrEqual(15)
    const controller = new AbortController()
    const sleeping = systemClock.sleep(10_000, controller.signal)
    controller.abort(new Error('stopping'))
    await expect(sleeping).rejects.toThrow('stopping')
    await expect(systemClock.sleep(10, controller.signal)).rejects.toThrow('stopping')
  })
})
