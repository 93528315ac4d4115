import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { minShardWidth, ShardCutter } from '../../../node/compute/scheduler/shard-cutter.ts'

function cutAll (from: bigint, to: bigint, widthOf: (remaining: bigint) => bigint): Array<{ index: number, from: bigint, to: bigint }> {
  const cutter = new ShardCutter(from, to)
  const shards = []
  for (let s = cutter.cut(widthOf(cutter.remaining)); s != null; s = cutter.cut(widthOf(cutter.remaining))) shards.push(s)
  return shards
}

describe('shard cutter', () => {
  it('covers [from, to] exactly once, with interior boundaries on multiples of 30', () => {
    fc.assert(fc.property(
      fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.bigInt({ min: 0n, max: 10n ** 9n }), fc.bigInt({ min: 1n, max: 10n ** 8n }),
      (from, span, width) => {
        const to = from + span
        const shards = cutAll(from, to, () => width)
        expect(shards[0].from).toBe(from)
        expect(shards.at(-1)?.to).toBe(to)
        shards.forEach((s, i) => {
          expect(s.index).toBe(i)
          expect(s.to).toBeGreaterThanOrEqual(s.from)
          if (i > 0) {
            expect(s.from).toBe(shards[i - 1].to + 1n)
            expect(s.from % 30n).toBe(0n)
          }
        })
      }), { numRuns: 300 })
  })

  it('never cuts below 200·sqrt(to), and folds a small leftover into the last shard', () => {
    const to = 10n ** 12n
    const min = minShardWidth(to)
    expect(min).toBe(200n * 10n ** 6n)
    const shards = cutAll(0n, to, () => 1000n)
    for (const s of shards) expect(s.to - s.from + 1n).toBeGreaterThanOrEqual(min)
    expect(shards.at(-1)?.to).toBe(to)
  })

  it('shrinks shards near the tail when the width follows the remaining work', () => {
    const to = 10n ** 12n
    const shards = cutAll(0n, to, remaining => remaining / 16n)
    const widths = shards.map(s => s.to - s.from + 1n)
    expect(widths[0]).toBeGreaterThan(widths.at(-2) as bigint)
    for (let i = 1; i < widths.length - 1; i++) expect(widths[i]).toBeLessThanOrEqual(widths[i - 1])
  })

  it('resumes after the last journaled shard', () => {
    const cutter = new ShardCutter(0n, 10n ** 9n, { frontier: 300_000_000n, nextIndex: 7 })
    const s = cutter.cut(10n ** 6n)
    expect(s).toMatchObject({ index: 7, from: 300_000_000n })
  })
})
