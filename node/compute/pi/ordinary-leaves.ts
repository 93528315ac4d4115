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
  // Stack of (n, index of its largest prime, mu(n)).
  const stackN: number[] = []
  const stackB: number[] = []
  const stackMu: number[] = []
  for (let b = c + 1; b <= piY; b++) {
    stackN.push(primes[b]); stackB.push(b); stackMu.push(-1)
    while (stackN.length > 0) {
      const n = stackN.pop() as number
      const nb = stackB.pop() as number
      const mu = stackMu.pop() as number
      add(n, mu)
      for (let i = nb + 1; i <= piY; i++) {
        const m = n * primes[i]
        if (m > y) break
        stackN.push(m); stackB.push(i); stackMu.push(-mu)
      }
    }
  }
  return sum.value
}
