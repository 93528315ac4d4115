import { describe, expect, it } from 'vitest'
import { InvalidArgumentsError } from '../../../protocols/rpc/index.ts'
import { SHARD_ALIGN } from '../../../node/compute/pi/hard-leaves.ts'
import { piParameters } from '../../../node/compute/pi/pi-parameters.ts'
import { parametersFromWire, parametersToWire } from '../../../node/compute/pi/pi-wire.ts'
import { parsePieces, piecesOf, planPiJob, resultOfSum, sumOfResults } from '../../../node/jobs/pi-job.ts'
import { chooseMethod } from '../../../cli/commands/count-method.ts'

describe('combinatorial job plan', () => {
  it('lays both ends of [from, to] on one line of blocks, and any cut maps back to pieces that tile each [0, z)', () => {
    const plan = planPiJob(10n ** 12n, 10n ** 13n)
    expect(plan.ends.map(e => e.negate)).toEqual([false, true])
    const seen = plan.ends.map(() => [] as Array<[number, number]>)
    // Cut the line at uneven places, as the scheduler does.
    let from = 0
    for (const width of [1, 7, 1000, 123_457, 10 ** 9]) {
      if (from >= plan.blocks) break
      const to = Math.min(plan.blocks - 1, from + width - 1)
      for (const piece of piecesOf(plan, { from: BigInt(from), to: BigInt(to) })) {
        const i = plan.ends.findIndex(e => e.params.x.toString() === piece.params.x)
        expect(piece.negate).toBe(plan.ends[i].negate)
        expect(piece.low % SHARD_ALIGN).toBe(0)
        seen[i].push([piece.low, piece.high])
      }
      from = to + 1
    }
    plan.ends.forEach((end, i) => {
      expect(seen[i][0][0]).toBe(0)
      expect(seen[i].at(-1)?.[1]).toBe(end.params.z)
      for (let k = 1; k < seen[i].length; k++) expect(seen[i][k][0]).toBe(seen[i][k - 1][1])
    })
  })

  it('with the easy leaves in the shards, gives each piece a range of primes, and any cut tiles [0, y + 1) and [0, z) per end', () => {
    const plan = planPiJob(10n ** 12n, 10n ** 13n, true)
    const easy = plan.ends.map(() => [] as Array<[number, number]>)
    const hard = plan.ends.map(() => [] as Array<[number, number]>)
    let from = 0
    for (const width of [1, 7, 1000, 5, 123_457, 10 ** 9]) {
      if (from >= plan.blocks) break
      const to = Math.min(plan.blocks - 1, from + width - 1)
      for (const piece of piecesOf(plan, { from: BigInt(from), to: BigInt(to) })) {
        const i = plan.ends.findIndex(e => e.params.x.toString() === piece.params.x)
        expect(piece.easy).toBeDefined()
        easy[i].push([piece.easy?.from ?? -1, piece.easy?.to ?? -1])
        if (piece.low < piece.high) hard[i].push([piece.low, piece.high])
      }
      from = to + 1
    }
    plan.ends.forEach((end, i) => {
      expect(easy[i][0][0]).toBe(0)
      expect(easy[i].at(-1)?.[1]).toBe(end.params.y + 1)
      for (let k = 1; k < easy[i].length; k++) expect(easy[i][k][0]).toBe(easy[i][k - 1][1])
      expect(hard[i][0][0]).toBe(0)
      expect(hard[i].at(-1)?.[1]).toBe(end.params.z)
      for (let k = 1; k < hard[i].length; k++) expect(hard[i][k][0]).toBe(hard[i][k - 1][1])
    })
    // Spread, not lumped: the middle unit of the line is well inside the primes of the easy leaves.
    const [middle] = piecesOf(plan, { from: BigInt(plan.ends[0].blocks / 2), to: BigInt(plan.ends[0].blocks / 2 + 999) })
    expect(middle.easy?.from).toBeGreaterThan(Math.sqrt(plan.ends[0].params.y))
    expect(middle.easy?.to).toBeLessThan(Math.cbrt(Number(plan.ends[0].params.x)))
  })

  it('adds up to the count with the easy leaves in the shards as without (pieces on the pool, easy terms apart)', async () => {
    const { WorkerPool } = await import('../../../node/compute/worker-pool.ts')
    const { piecesOnPool } = await import('../../../node/jobs/pi-executors.ts')
    const { piJobParts } = await import('../../../node/jobs/pi-job-parts.ts')
    const pool = new WorkerPool({ size: 1 })
    try {
      const parts = piJobParts(pool, 10n ** 9n, 3n * 10n ** 11n, new AbortController().signal, true)
      let sum = 0n
      let from = 0
      for (const width of [3, 20_000, 1, 30_000, 10 ** 9]) {
        if (from >= parts.plan.blocks) break
        const to = Math.min(parts.plan.blocks - 1, from + width - 1)
        sum += (await piecesOnPool(pool, piecesOf(parts.plan, { from: BigInt(from), to: BigInt(to) }), new AbortController().signal, () => {})).sum
        from = to + 1
      }
      // pi(3e11) - pi(1e9 - 1), primecount's values.
      expect(await parts.total(sum)).toBe(11_818_439_135n - 50_847_534n)
    } finally {
      await pool.close()
    }
  })

  it('maps a few units near y / 4 to no numbers at all (shards there may be empty)', () => {
    const plan = planPiJob(0n, 10n ** 15n)
    expect(piecesOf(plan, { from: 1n, to: 1n })).toEqual([])
  })

  it('sieves an end below 1e7 on the coordinator instead of cutting it', () => {
    const plan = planPiJob(1000n, 10n ** 12n)
    expect(plan.ends).toHaveLength(1)
    expect(plan.sieved).toBe(-168n)
  })

  it('carries a signed shard sum through the unsigned count field', () => {
    for (const v of [0n, 1n, -1n, -(2n ** 62n), 2n ** 62n]) expect(sumOfResults(resultOfSum(v).count)).toBe(v)
    expect(sumOfResults(resultOfSum(-5n).count + resultOfSum(7n).count)).toBe(2n)
  })
})

describe('hard-leaf requests from peers', () => {
  const params = parametersToWire(piParameters(10n ** 13n))
  const good = { params, low: 0, high: 240 * 1000, negate: false }
  const bad: Array<[string, unknown]> = [
    ['not an object', 'x'],
    ['no pieces', {}],
    ['three pieces', { pieces: [good, good, good] }],
    ['low not a multiple of 240', { pieces: [{ ...good, low: 7 }] }],
    ['high beyond z', { pieces: [{ ...good, high: params.z + 1 }] }],
    ['high not above low', { pieces: [{ ...good, low: 240, high: 240 }] }],
    ['negate not a boolean', { pieces: [{ ...good, negate: 'yes' }] }],
    ['y too large for x', { pieces: [{ ...good, params: { ...params, y: params.y * 1000 } }] }],
    ['y too small for x', { pieces: [{ ...good, params: { ...params, y: 10 } }] }],
    ['z not x / y', { pieces: [{ ...good, params: { ...params, z: params.z + 1 } }] }],
    ['x above 2^64', { pieces: [{ ...good, params: { ...params, x: '18446744073709551616' } }] }],
    ['x not decimal', { pieces: [{ ...good, params: { ...params, x: '1e13' } }] }],
    ['another c', { pieces: [{ ...good, params: { ...params, c: 8 } }] }]
  ]
  for (const [what, args] of bad) {
    it(`refuses ${what} with InvalidArgumentsError`, () => {
      expect(() => parsePieces(args)).toThrow(InvalidArgumentsError)
    })
  }

  it('takes easy-leaf ranges only where asked for them (primes.leaves), checked', () => {
    expect(() => parsePieces({ pieces: [{ ...good, easy: { from: 0, to: 10 } }] })).toThrow(InvalidArgumentsError)
    expect(() => parsePieces({ pieces: [good] }, true)).toThrow(InvalidArgumentsError)
    for (const easy of [{ from: -1, to: 5 }, { from: 5, to: 4 }, { from: 0, to: params.y + 2 }, { from: 0.5, to: 5 }, { from: '0', to: 5 }]) {
      expect(() => parsePieces({ pieces: [{ ...good, easy }] }, true)).toThrow(InvalidArgumentsError)
    }
    const [piece] = parsePieces({ pieces: [{ ...good, low: 240, high: 240, easy: { from: 7, to: params.y + 1 } }] }, true)
    expect(piece.easy).toEqual({ from: 7, to: params.y + 1 })
  })

  it('accepts a well-formed request and keeps its parameters exactly', () => {
    const [piece] = parsePieces({ pieces: [good] })
    expect(piece.params).toEqual(parametersFromWire(params))
    expect(piece.high).toBe(good.high)
  })
})

describe('method choice', () => {
  it('counts wide intervals combinatorially and narrow ones high up by sieve', () => {
    expect(chooseMethod(0n, 10n ** 15n)).toBe('combinatorial')
    expect(chooseMethod(10n ** 17n, 10n ** 18n)).toBe('combinatorial')
    expect(chooseMethod(10n ** 17n, 10n ** 17n + 2n * 10n ** 8n)).toBe('sieve')
    expect(chooseMethod(0n, 10n ** 6n)).toBe('sieve')
    expect(chooseMethod(2n ** 64n - 10n ** 10n, 2n ** 64n - 1n)).toBe('sieve')
  })
})
