import { TINY_MAX_A, phiTinyNumber } from './phi-tiny.ts'
import type { PiTables } from './pi-tables.ts'

/**
 * phi(t, a) for t < 2^53 and a <= pi(y), by the recurrence
 * phi(t, a) = phi(t, c) - sum over c < i <= a of phi(t / p_i, i - 1), cut short where a term
 * is known: phi(t, a) = 1 for 1 <= t < p_(a+1), and pi(t) - a + 1 for t < p_(a+1)^2 when the
 * pi table reaches t. A hard-leaf shard needs it once per b at its start (the phi vector).
 */
export function phi (t: number, a: number, tables: PiTables): number {
  if (a <= TINY_MAX_A) return phiTinyNumber(t, a)
  const { primes, pi } = tables
  const next = primes[a + 1]
  if (t < next) return t >= 1 ? 1 : 0
  if (t < pi.length && t < next * next) return pi[t] - a + 1
  let sum = phiTinyNumber(t, TINY_MAX_A)
  for (let i = TINY_MAX_A + 1; i <= a; i++) {
    const p = primes[i]
    const u = Math.floor(t / p)
    if (u < p) {
      // Every later term is phi(u', j - 1) with u' < p_j: 1 while p_j <= t, then 0.
      const last = primes[a] <= t ? a : pi[t]
      if (last >= i) sum -= last - i + 1
      break
    }
    sum -= phi(u, i - 1, tables)
  }
  return sum
}

/**
 * The phi vector of a hard-leaf shard starting at `low`: out[b] = phi(low - 1, b - 1) for
 * c < b <= maxB, the count of every number below the shard that survives p_1 .. p_(b-1).
 * With it, a shard needs nothing from the shards before it.
 */
export function phiVector (low: number, c: number, maxB: number, tables: PiTables): Float64Array {
  const out = new Float64Array(maxB + 2)
  if (low === 0) return out
  const t = low - 1
  const { primes } = tables
  let value = phiTinyNumber(t, c)
  for (let b = c + 1; b <= maxB; b++) {
    out[b] = value
    // phi(t, b) = phi(t, b - 1) - phi(t / p_b, b - 1)
    const p = primes[b]
    const u = Math.floor(t / p)
    value -= u < p ? (u >= 1 ? 1 : 0) : phi(u, b - 1, tables)
  }
  return out
}
