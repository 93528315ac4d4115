import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MAX_SHARD_WIDTH, parseShardArgs, parseShardItem, resultItem } from '../../../node/jobs/shard-wire.ts'

describe('primes.count on the wire', () => {
  it('round-trips a result item, bigints as decimal strings', () => {
    const result = { count: 3n, sum: (1n << 64n) - 1n, first: 11n, last: 17n }
    expect(parseShardItem(JSON.parse(JSON.stringify(resultItem(result, 0.5))))).toEqual({ type: 'result', result, seconds: 0.5 })
  })

  it('rejects bad args with InvalidArgumentsError: not decimal, 2^64, reversed, too wide', () => {
    const bad = [null, 'x', { from: 1, to: 2 }, { from: '01', to: '2' }, { from: '0', to: '18446744073709551616' },
      { from: '5', to: '1' }, { from: '0', to: (MAX_SHARD_WIDTH + 1n).toString() }, { from: '1e9', to: '2e9' }]
    for (const args of bad) expect(() => parseShardArgs(args), JSON.stringify(args)).toThrow(expect.objectContaining({ name: 'InvalidArgumentsError' }))
    expect(parseShardArgs({ from: '100', to: '200' })).toEqual({ from: 100n, to: 200n })
  })

  it('never throws anything but InvalidArgumentsError on whatever a peer streams', () => {
    fc.assert(fc.property(fc.jsonValue(), value => {
      try {
        parseShardItem(value)
      } catch (err: any) {
        expect(err.name).toBe('InvalidArgumentsError')
      }
    }), { numRuns: 500 })
    fc.assert(fc.property(fc.record({ type: fc.constantFrom('result', 'progress', 'queued'), count: fc.string(), sum: fc.string(), done: fc.string(), first: fc.option(fc.string()) }), value => {
      try {
        parseShardItem(value)
      } catch (err: any) {
        expect(err.name).toBe('InvalidArgumentsError')
      }
    }), { numRuns: 500 })
  })
})
