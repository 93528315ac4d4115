import { countRange } from '../primes/index.ts'
import { easyLeaves } from './easy-leaves.ts'
import { FusedP2 } from './fused-p2.ts'
import { hardLeaves } from './hard-leaves.ts'
import { ordinaryLeaves } from './ordinary-leaves.ts'
import { p2 } from './p2.ts'
import { piParameters, SIEVE_BELOW, type PiParameters } from './pi-parameters.ts'
import { buildTables, type PiTables } from './pi-tables.ts'

export { SIEVE_BELOW } from './pi-parameters.ts'

/** Every term of pi(x) = S1 + S2_easy + S2_hard + pi(y) - 1 - P2 but the hard leaves. */
export interface EasyTerms {
  s1: bigint
  /** The easy and trivial special leaves together (0 when the shards carry them). */
  s2Easy: bigint
  p2: bigint
  piY: number
}

export function easyTerms (params: PiParameters, tables: PiTables, withEasyLeaves = true): EasyTerms {
  return {
    s1: ordinaryLeaves(params, tables),
    s2Easy: withEasyLeaves ? easyLeaves(params, tables) : 0n,
    p2: p2(params, tables.piY),
    piY: tables.piY
  }
}

export function combineTerms (terms: EasyTerms, s2Hard: bigint): bigint {
  return terms.s1 + terms.s2Easy + s2Hard + BigInt(terms.piY) - 1n - terms.p2
}

/** pi(x) for 0 <= x < 2^64 on this thread, by Deléglise–Rivat (a plain sieve for small x). */
export function piCombinatorial (x: bigint, alpha?: number, narrowBelow?: number): bigint {
  if (x < 0n) throw new RangeError('x must be >= 0')
  if (x < SIEVE_BELOW) return countRange(0n, x, { details: false }).count
  const params = { ...piParameters(x, alpha), narrowBelow }
  const tables = buildTables(params)
  if (FusedP2.fits(params)) {
    // One pass over [0, z) gives the hard leaves and P2 (see fused-p2.ts).
    const fused = new FusedP2(params, tables.piY)
    const s2Hard = hardLeaves(params, tables, 0, params.z, undefined, fused)
    const terms = { s1: ordinaryLeaves(params, tables), s2Easy: easyLeaves(params, tables), p2: fused.value, piY: tables.piY }
    return combineTerms(terms, s2Hard)
  }
  const terms = easyTerms(params, tables)
  return combineTerms(terms, hardLeaves(params, tables, 0, params.z))
}
