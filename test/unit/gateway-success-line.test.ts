import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { successLine } from '../../node/gateway/line-gateway.ts'

/** What a success answer was before it was written from the result's own JSON: a spread copy. */
function spreadLine (result: Record<string, unknown>, id: string | number | undefined): string {
  const answer: Record<string, unknown> = { ok: true, ...result }
  return JSON.stringify(id === undefined ? answer : { ...answer, id }) + '\n'
}

describe('gateway success answers', () => {
  it('are the text of the spread copy for any result and id: keys, order, escaping, empty results', () => {
    const key = fc.oneof(fc.constantFrom('n', 'is_prime', 'peer', 'ok', 'id', 'count', '__proto__x', 'a"b', 'é\u2028'), fc.string({ maxLength: 8 }))
    const value = fc.jsonValue({ maxDepth: 2 })
    const result = fc.dictionary(key, value, { maxKeys: 6 }) as fc.Arbitrary<Record<string, unknown>>
    const id = fc.option(fc.oneof(fc.string({ maxLength: 12 }), fc.integer()), { nil: undefined })
    fc.assert(fc.property(result, id, (r, i) => {
      const line = successLine(r, i)
      const spread = spreadLine(r, i)
      expect(JSON.parse(line)).toEqual(JSON.parse(spread))
      // A copy puts index-like keys ("0", "12") first, as every object does; results have none.
      if (!Object.keys(r).some(k => /^(0|[1-9]\d*)$/.test(k))) expect(line).toBe(spread)
    }), { numRuns: 2000 })
  })

  it('of a prime test, with and without an id', () => {
    const result = { n: '104729', is_prime: true, peer: '12D3KooWabc' }
    expect(successLine(result, undefined)).toBe('{"ok":true,"n":"104729","is_prime":true,"peer":"12D3KooWabc"}\n')
    expect(successLine(result, 7)).toBe('{"ok":true,"n":"104729","is_prime":true,"peer":"12D3KooWabc","id":7}\n')
    expect(successLine({}, 'x')).toBe('{"ok":true,"id":"x"}\n')
  })
})
