import { describe, expect, it } from 'vitest'
import { FusedP2 } from '../../../node/compute/pi/fused-p2.ts'
import { hardLeaves } from '../../../node/compute/pi/hard-leaves.ts'
import { p2 } from '../../../node/compute/pi/p2.ts'
import { piParameters } from '../../../node/compute/pi/pi-parameters.ts'
import { buildTables } from '../../../node/compute/pi/pi-tables.ts'

describe('P2 on the hard-leaf pass', () => {
  // Small and middling x, x = p^2 and its neighbours (sqrt x prime, x / p = sqrt x), a
  // z just past a segment's end, and alphas that put sqrt x in the first or a later segment.
  const cases: Array<[bigint, number | undefined]> = [
    [10_000_000n, undefined], [10_000_019n, undefined], [1_000_000_007n, undefined],
    [9_999_937n ** 2n, undefined], [9_999_937n ** 2n - 1n, undefined], [9_999_937n ** 2n + 1n, undefined],
    [123_456_789_012n, undefined], [123_456_789_012n, 1], [123_456_789_012n, 40]
  ]
  it.each(cases)('gives the P2 and the hard leaves of the separate computations at x = %s (alpha %s)', (x, alpha) => {
    const params = piParameters(x, alpha)
    expect(FusedP2.fits(params)).toBe(true)
    const tables = buildTables(params)
    const fused = new FusedP2(params, tables.piY)
    const hard = hardLeaves(params, tables, 0, params.z, undefined, fused)
    expect(fused.value).toBe(p2(params, tables.piY))
    expect(hard).toBe(hardLeaves(params, tables, 0, params.z))
  })

  it('rides only on a pass over all of [0, z), and stays out of counts it does not fit', () => {
    const params = piParameters(10n ** 12n)
    const tables = buildTables(params)
    expect(() => hardLeaves(params, tables, 240, params.z, undefined, new FusedP2(params, tables.piY))).toThrow(RangeError)
    expect(FusedP2.fits(piParameters(10n ** 15n))).toBe(false)
    expect(FusedP2.fits({ ...params, narrowBelow: 1 })).toBe(false)
  })
})
