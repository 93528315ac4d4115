import { isqrt } from '../isqrt.ts'
import { BigAccumulator } from './big-accumulator.ts'
import type { PiParameters } from './pi-parameters.ts'
import type { PiTables } from './pi-tables.ts'
import { divide, WIDE_BASE, wideDivide } from './wide-number.ts'

/**
 * The special leaves p_b * q (q prime) that need no sieve: b with p_b > sqrt(y), so the leaf's
 * m is a prime q in (p_b, y], and p_b * q > z, so t = x / (p_b * q) < y.
 * - t < p_b (q > x / p_b^2): phi(t, b - 1) = 1, the trivial leaves, counted in closed form;
 * - otherwise t < y < p_b^2, so phi(t, b - 1) = pi(t) - b + 2, read from the pi table: the easy
 *   leaves. Consecutive q often share pi(t) (q above sqrt(x / p_b)): the whole run of them is
 *   found with one division, from the prime p_pi(t) that t cannot fall below.
 */
/**
 * Per-leaf up to q = 6 sqrt(x / p), runs of equal pi(t) beyond. A run costs two divisions and
 * two lookups, a leaf one of each; runs are about (q / t) (ln t / ln q) leaves long, so they
 * pay once t < q / 36 or so. Measured on pi(1e15): easy leaves 3.3 s with the switch at
 * sqrt(x / p), 1.3 s at 6 sqrt(x / p).
 */
const SPARSE_FACTOR = 36
export function easyLeaves (params: PiParameters, tables: PiTables, pFrom = 0, pTo = Number.POSITIVE_INFINITY): bigint {
  const { y, z } = params
  const { primes, pi, piY, xpHi, xpLo } = tables
  const sum = new BigAccumulator()
  const first = pi[Number(isqrt(BigInt(y)))] + 1
  // Only the b with pFrom <= p_b < pTo: a shard's share (see pi-job.ts), all b by default.
  const bFrom = Math.max(first, params.c + 1, pFrom <= 1 ? 0 : pi[Math.min(y, pFrom - 1)] + 1)
  const bTo = pTo <= 1 ? 0 : Math.min(piY, pTo > y ? piY : pi[pTo - 1] + 1)
  for (let b = bFrom; b < bTo; b++) {
    const p = primes[b]
    const hi = xpHi[b]
    const lo = xpLo[b]
    // q ranges: (p, hardMax] hard, (hardMax, easyMax] easy, (easyMax, y] trivial.
    const hardMax = Math.max(p, Math.min(y, Math.floor(z / p)))
    const xpp = divide(hi, lo, p)
    const easyMax = Math.max(hardMax, Math.min(y, xpp))
    sum.add(piY - pi[easyMax])
    let j = pi[hardMax] + 1
    const jEnd = pi[easyMax]
    const offset = 2 - b
    // Sparse: q <= 6 sqrt(x / p), where runs are short: one division per leaf.
    const sqrtXp = Math.floor(Math.sqrt(SPARSE_FACTOR * (hi * WIDE_BASE + lo)))
    const jSparse = Math.min(jEnd, pi[Math.min(y, sqrtXp)])
    if (j <= jSparse) {
      let piSum = 0
      if (hi === 0) {
        for (let k = j; k <= jSparse; k++) piSum += pi[Math.floor(lo / primes[k])]
      } else {
        for (let k = j; k <= jSparse; k++) piSum += pi[wideDivide(hi, lo, primes[k])]
      }
      sum.add(piSum + (jSparse - j + 1) * offset)
      j = jSparse + 1
    }
    // Clustered: beyond, t << q, and consecutive q share pi(t).
    while (j <= jEnd) {
      const t = divide(hi, lo, primes[j])
      const v = pi[t]
      // Every q with x / (p q) >= p_v, i.e. q <= x / (p * p_v), shares pi(t) = v.
      const qMax = divide(hi, lo, primes[v])
      let jRun = qMax >= primes[jEnd] ? jEnd : pi[qMax]
      if (jRun < j) jRun = j
      sum.add((jRun - j + 1) * (v + offset))
      j = jRun + 1
    }
  }
  return sum.value
}
