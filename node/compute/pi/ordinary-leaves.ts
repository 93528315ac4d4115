import { BigAccumulator } from './big-accumulator.ts'
import { phiTinyBig, phiTinyNumber } from './phi-tiny.ts'
import type { PiParameters } from './pi-parameters.ts'
import type { PiTables } from './pi-tables.ts'
import { NARROW_LIMIT, toWide, wideDivide } from './wide-number.ts'

/**
 * S1, the ordinary leaves: the sum of mu(n) * phi(x / n, c) over square-free n <= y whose
 * prime factors all exceed p_c, n = 1 included; a depth-first walk over such n.
 */
export function ordinaryLeaves (params: PiParameters, tables: PiTables): bigint {
  const { x, y, c } = params
  const { primes, piY } = tables
  const sum = new BigAccumulator()
  const { hi, lo } = toWide(x, params.narrowBelow)
  // Below this n, x / n may not be exact in a double: those few terms use BigInt.
  const bigBelow = Number(x / BigInt(NARROW_LIMIT)) + 1
  const term = (n: number): number | bigint => {
    if (n < bigBelow) return phiTinyBig(x / BigInt(n), c)
    return phiTinyNumber(hi === 0 ? Math.floor(lo / n) : wideDivide(hi, lo, n), c)
  }
  const add = (n: number, mu: number): void => {
    const t = term(n)
    if (typeof t === 'bigint') sum.addBig(mu > 0 ? t : -t)
    else sum.add(mu > 0 ? t : -t)
  }
  add(1, 1)
  // Depth first: n, then n times each larger prime that keeps it <= y (at most a dozen
  // levels: the prime factors of n <= y all exceed p_c).
  const walk = (n: number, nb: number, mu: number): void => {
    add(n, mu)
    for (let i = nb + 1; i <= piY; i++) {
      const m = n * primes[i]
      if (m > y) break
      walk(m, i, -mu)
    }
  }
  for (let b = c + 1; b <= piY; b++) walk(primes[b], b, -1)
  return sum.value
}
