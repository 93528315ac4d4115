import { describe, expect, it } from 'vitest'
import { RateLimiter } from '../../../node/limits/rate-limiter.ts'
import { FakeClock } from '../../../node/time/fake-clock.ts'

describe('RateLimiter', () => {
  it('lets a burst through, then the rate, per key', async () => {
    const clock = new FakeClock(0)
    const limiter = new RateLimiter({ clock }, { ratePerSecond: 10, burst: 3 })
    expect([1, 2, 3, 4].map(() => limiter.tryTake('a'))).toEqual([true, true, true, false])
    expect(limiter.tryTake('b')).toBe(true)
    expect(limiter.waitMs('a')).toBe(100)
    await clock.advance(100)
    expect(limiter.tryTake('a')).toBe(true)
    expect(limiter.tryTake('a')).toBe(false)
    await clock.advance(9_900)
    expect([1, 2, 3, 4].map(() => limiter.tryTake('a'))).toEqual([true, true, true, false])
  })

  it('takes several tokens at once when asked (a byte budget), only if all are there', async () => {
    const clock = new FakeClock(0)
    const limiter = new RateLimiter({ clock }, { ratePerSecond: 100, burst: 200 })
    expect(limiter.tryTake('a', 150)).toBe(true)
    expect(limiter.tryTake('a', 60)).toBe(false)
    expect(limiter.tryTake('a', 50)).toBe(true)
    await clock.advance(500)
    expect(limiter.tryTake('a', 51)).toBe(false)
    expect(limiter.tryTake('a', 50)).toBe(true)
  })

  it('keeps a bounded number of keys', () => {
    const limiter = new RateLimiter({ clock: new FakeClock(0) }, { ratePerSecond: 1, burst: 1, maxKeys: 2 })
    limiter.tryTake('a')
    limiter.tryTake('b')
    limiter.tryTake('c')
    // 'a' was forgotten: it starts again with a full bucket.
    expect(limiter.tryTake('a')).toBe(true)
  })

  it('checks its options', () => {
    expect(() => new RateLimiter({}, { ratePerSecond: 0, burst: 1 })).toThrow(/ratePerSecond/)
    expect(() => new RateLimiter({}, { ratePerSecond: 1, burst: 0 })).toThrow(/burst/)
  })
})
