import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseBound } from '../../../cli/parse-bound.ts'

const LIMIT = 1n << 64n
const bound = fc.bigInt({ min: 0n, max: LIMIT - 1n })

/** Inserts single underscores between digits at random places. */
const withUnderscores = (digits: string, cuts: boolean[]): string =>
  [...digits].map((d, i) => (i > 0 && cuts[i % cuts.length] ? '_' : '') + d).join('')

function usageErrorOf (text: string): Error {
  try {
    parseBound(text, 'FROM')
  } catch (err: any) {
    return err
  }
  throw new Error(`"${text}" was accepted`)
}

describe('parseBound', () => {
  it('reads plain digits of any bound below 2^64', () => {
    fc.assert(fc.property(bound, (n) => parseBound(n.toString()) === n))
  })

  it('ignores underscores between digits', () => {
    fc.assert(fc.property(bound, fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }), (n, cuts) =>
      parseBound(withUnderscores(n.toString(), cuts)) === n))
  })

  it('reads mantissa-e-exponent forms exactly', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 10n ** 6n }), fc.integer({ min: 0, max: 13 }), (m, e) =>
      parseBound(`${m}e${e}`) === m * 10n ** BigInt(e)))
    expect(parseBound('1e9')).toBe(1_000_000_000n)
    expect(parseBound('2.5e9')).toBe(2_500_000_000n)
    expect(parseBound('1E+3')).toBe(1000n)
    expect(parseBound('1_000_000')).toBe(1_000_000n)
  })

  it('adds and subtracts terms', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: LIMIT / 2n - 1n }), fc.bigInt({ min: 0n, max: LIMIT / 2n - 1n }), (a, b) =>
      parseBound(`${a}+${b}`) === a + b))
    expect(parseBound('1e13+1e10')).toBe(10_010_000_000_000n)
    expect(parseBound('2^64-1')).toBe(LIMIT - 1n)
    expect(parseBound('2^32')).toBe(4_294_967_296n)
  })

  it('rejects negatives, fractions, text and bounds >= 2^64 with a UsageError naming the bound', () => {
    for (const text of ['-1', '-0x5', '1.5', '1e-3', '12.34e1', 'abc', '', ' ', '1e', '0x10', '1__0', '_1', '1_', '2^64', '1e20', '18446744073709551616', '1e999999', '5-6', 'NaN', 'Infinity']) {
      const err = usageErrorOf(text)
      expect(err.name, text).toBe('UsageError')
      expect(err.message, text).toMatch(/^FROM /)
      expect(err.message.includes('\n')).toBe(false)
    }
  })

  it('rejects every bound from 2^64 up', () => {
    fc.assert(fc.property(fc.bigInt({ min: LIMIT, max: LIMIT ** 2n }), (n) => usageErrorOf(n.toString()).name === 'UsageError'))
  })

  it('rejects strings with letters', () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 12 }).filter((s) => /[a-df-zA-DF-Z]/.test(s)), (s) =>
      usageErrorOf(s).name === 'UsageError'))
  })
})
