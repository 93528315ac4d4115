import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { backoffDelay } from '../../../node/time/backoff.ts'
import { candidatesFor, pickPeer, type Candidate, type MemberLike } from '../../../node/rpc/balancer.ts'

/** A deterministic source of [0,1) values: the draws a test wants, in order. */
function draws (...values: number[]): () => number {
  let i = 0
  return () => values[i++ % values.length]
}

function seeded (seed: number): () => number {
  let s = seed >>> 0
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32 }
}

const candidate = (id: string, load: number, extra: Partial<Candidate> = {}): Candidate =>
  ({ id, load, workers: { total: 4, free: 4 }, inflight: 0, local: false, ...extra })

describe('power of two choices', () => {
  it('keeps the less loaded of the two drawn', () => {
    const peers = [candidate('a', 0.9), candidate('b', 0.1), candidate('c', 0.5)]
    // Draws a (index 0) and then index 0 of the remaining two, which is b.
    expect(pickPeer(peers, draws(0, 0))?.id).toBe('b')
    // Draws c (index 2) and a: c is less loaded.
    expect(pickPeer(peers, draws(0.99, 0))?.id).toBe('c')
  })

  it('never picks the most loaded of three, and picks the least loaded most often', () => {
    const peers = [candidate('busy', 2), candidate('mid', 1), candidate('idle', 0)]
    const random = seeded(42)
    const counts: Record<string, number> = { busy: 0, mid: 0, idle: 0 }
    for (let i = 0; i < 3000; i++) counts[pickPeer(peers, random)!.id]++
    expect(counts.busy).toBe(0)
    // idle wins both pairs it is in (2 of 3 pairs), mid wins one.
    expect(counts.idle / 3000).toBeGreaterThan(0.6)
    expect(counts.mid / 3000).toBeGreaterThan(0.25)
  })

  it('counts this node\'s own calls in flight on top of the advertised load', () => {
    const peers = [candidate('a', 0, { inflight: 8 }), candidate('b', 0.5)]
    expect(pickPeer(peers, draws(0, 0))?.id).toBe('b')
  })

  it('prefers the local node on a tie, then the one with more free workers', () => {
    const local = candidate('me', 0.25, { local: true })
    expect(pickPeer([candidate('x', 0.25), local], draws(0, 0))?.id).toBe('me')
    expect(pickPeer([local, candidate('x', 0.25)], draws(0, 0))?.id).toBe('me')
    const roomy = candidate('roomy', 0.25, { workers: { total: 8, free: 6 } })
    expect(pickPeer([candidate('x', 0.25), roomy], draws(0, 0))?.id).toBe('roomy')
  })

  it('returns the only candidate, or nothing', () => {
    expect(pickPeer([candidate('solo', 3)], Math.random)?.id).toBe('solo')
    expect(pickPeer([], Math.random)).toBeUndefined()
  })

  it('always returns one of the candidates, two distinct ones drawn', () => {
    fc.assert(fc.property(fc.array(fc.double({ min: 0, max: 10, noNaN: true }), { minLength: 1, maxLength: 20 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), fc.double({ min: 0, max: 0.999999, noNaN: true }),
      (loads, r1, r2) => {
        const peers = loads.map((l, i) => candidate(`p${i}`, l))
        const picked = pickPeer(peers, draws(r1, r2))!
        expect(peers).toContain(picked)
        // Never worse than both of the two drawn: at most the second-largest load overall
        // (loads within 1e-9 count as a tie).
        const sorted = [...loads].sort((a, b) => b - a)
        if (loads.length > 1) expect(picked.load).toBeLessThanOrEqual(sorted[1] + 1e-9)
      }))
  })
})

describe('candidates for a method', () => {
  const member = (id: string, state: MemberLike['state'], services = ['calc.sum']): MemberLike =>
    ({ id, state, load: 0, workers: { total: 2, free: 2 }, services })

  it('skips dead, suspect and left members and those without the method', () => {
    const members = [
      member('alive', 'alive'), member('dead', 'dead'), member('suspect', 'suspect'), member('left', 'left'),
      member('other', 'alive', ['text.uppercase']), member('me', 'alive')
    ]
    const found = candidatesFor('calc.sum', members, new Set(), () => 0, 'me')
    expect(found.map(c => c.id).sort()).toEqual(['alive', 'me'])
    expect(found.find(c => c.id === 'me')?.local).toBe(true)
  })

  it('skips excluded members and reports in-flight calls', () => {
    const found = candidatesFor('calc.sum', [member('a', 'alive'), member('b', 'alive')], new Set(['a']), id => id === 'b' ? 3 : 0, 'me')
    expect(found).toEqual([{ id: 'b', load: 0, workers: { total: 2, free: 2 }, inflight: 3, local: false }])
  })
})

describe('backoff with full jitter', () => {
  it('grows exponentially up to the cap, jitter from zero to the ceiling', () => {
    const top = (): number => 0.999999
    expect(backoffDelay(1, { baseMs: 20, capMs: 1000, random: top })).toBe(19)
    expect(backoffDelay(2, { baseMs: 20, capMs: 1000, random: top })).toBe(39)
    expect(backoffDelay(4, { baseMs: 20, capMs: 1000, random: top })).toBe(159)
    expect(backoffDelay(10, { baseMs: 20, capMs: 1000, random: top })).toBe(999)
    expect(backoffDelay(5000, { baseMs: 20, capMs: 1000, random: top })).toBe(999)
    expect(backoffDelay(3, { baseMs: 20, capMs: 1000, random: () => 0 })).toBe(0)
  })

  it('never exceeds the cap nor min(cap, base·2^(n-1)), never goes negative', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 60_000 }), fc.double({ min: 0, max: 0.9999999, noNaN: true }),
      (retry, baseMs, capMs, r) => {
        const d = backoffDelay(retry, { baseMs, capMs, random: () => r })
        expect(d).toBeGreaterThanOrEqual(0)
        expect(d).toBeLessThan(Math.max(1, Math.min(capMs, baseMs * 2 ** Math.min(retry - 1, 60))))
        expect(d).toBeLessThanOrEqual(capMs)
      }))
  })

  it('spreads retries that fail together (jitter is really random)', () => {
    const random = seeded(7)
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(5, { baseMs: 20, capMs: 1000, random })))
    expect(delays.size).toBeGreaterThan(30)
  })

  it('checks its argument', () => {
    expect(() => backoffDelay(0, { baseMs: 20, capMs: 1000 })).toThrow(RangeError)
  })
})
