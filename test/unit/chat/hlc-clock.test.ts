import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { HybridClock } from '../../../node/chat/hlc-clock.ts'
import { compareHlc, compareMessages, MAX_LOGICAL } from '../../../protocols/chat/index.ts'

describe('HybridClock under a fake clock', () => {
  it('follows the wall clock and counts within one millisecond', () => {
    let now = 1000
    const clock = new HybridClock({ clock: { now: () => now } })
    expect(clock.tick()).toEqual({ ts: 1000, lc: 0 })
    expect(clock.tick()).toEqual({ ts: 1000, lc: 1 })
    now = 1005
    expect(clock.tick()).toEqual({ ts: 1005, lc: 0 })
  })

  it('never goes backwards when the wall clock does', () => {
    let now = 5000
    const clock = new HybridClock({ clock: { now: () => now } })
    const a = clock.tick()
    now = 4000
    const b = clock.tick()
    expect(compareHlc(b, a)).toBeGreaterThan(0)
    expect(b).toEqual({ ts: 5000, lc: 1 })
  })

  it('a counter at its ceiling carries into the millisecond: never a timestamp the codec refuses', () => {
    const clock = new HybridClock({ clock: { now: () => 1000 } })
    clock.observe({ ts: 30_000, lc: MAX_LOGICAL })
    const next = clock.tick()
    expect(next).toEqual({ ts: 30_001, lc: 0 })
    expect(compareHlc(next, { ts: 30_000, lc: MAX_LOGICAL })).toBeGreaterThan(0)
    expect(clock.tick()).toEqual({ ts: 30_001, lc: 1 })
  })

  it('a message sent after one was seen sorts after it, even with a lagging wall clock', () => {
    const clock = new HybridClock({ clock: { now: () => 1000 } })
    clock.observe({ ts: 3000, lc: 7 })
    expect(clock.tick()).toEqual({ ts: 3000, lc: 8 })
  })

  it('is not dragged along by a peer clock far ahead', () => {
    const clock = new HybridClock({ clock: { now: () => 1000 } }, { maxDriftMs: 60_000 })
    clock.observe({ ts: 1000 + 3_600_000, lc: 0 })
    expect(clock.tick()).toEqual({ ts: 1000, lc: 0 })
  })

  it('ticks strictly increase whatever the wall clock and the peers do', () => {
    fc.assert(fc.property(fc.array(fc.oneof(
      fc.record({ kind: fc.constant('tick' as const), wall: fc.integer({ min: 0, max: 10_000 }) }),
      fc.record({ kind: fc.constant('observe' as const), wall: fc.integer({ min: 0, max: 10_000 }), ts: fc.integer({ min: 0, max: 10_000 }), lc: fc.integer({ min: 0, max: 5 }) })
    ), { maxLength: 200 }), steps => {
      let wall = 0
      const clock = new HybridClock({ clock: { now: () => wall } })
      let last = { ts: -1, lc: 0 }
      for (const step of steps) {
        wall = step.wall
        if (step.kind === 'observe') {
          clock.observe({ ts: step.ts, lc: step.lc })
          continue
        }
        const t = clock.tick()
        expect(compareHlc(t, last)).toBeGreaterThan(0)
        last = t
      }
    }))
  })
})

describe('display order', () => {
  it('is the same whatever order the messages arrived in', () => {
    const message = fc.record({ ts: fc.integer({ min: 0, max: 20 }), lc: fc.integer({ min: 0, max: 3 }), id: fc.string({ minLength: 1, maxLength: 4 }) })
    fc.assert(fc.property(fc.uniqueArray(message, { selector: m => m.id, maxLength: 50 }), fc.integer(), (messages, seed) => {
      const shuffled = [...messages].sort((a, b) => ((a.id.charCodeAt(0) * seed) % 7) - ((b.id.charCodeAt(0) * seed) % 7))
      expect([...shuffled].sort(compareMessages)).toEqual([...messages].sort(compareMessages))
    }))
  })

  it('orders by timestamp, then logical counter, then id', () => {
    const sorted = [{ ts: 2, lc: 0, id: 'a' }, { ts: 1, lc: 1, id: 'a' }, { ts: 1, lc: 1, id: '0' }, { ts: 1, lc: 0, id: 'z' }].sort(compareMessages)
    expect(sorted.map(m => `${m.ts}.${m.lc}.${m.id}`)).toEqual(['1.0.z', '1.1.0', '1.1.a', '2.0.a'])
  })
})
