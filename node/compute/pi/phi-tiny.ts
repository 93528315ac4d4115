/**
 * phi(t, a) for a <= 7 in O(1): with P = p_1 ... p_a, phi(t, a) = floor(t / P) * totient(P) +
 * phi(t mod P, a), and one table per a <= 6 holds phi(r, a) for r < P (30030 entries for
 * a = 6). a = 7 is one step of the recurrence on top, phi(t, 7) = phi(t, 6) - phi(t / 17, 6):
 * two lookups instead of a table of 510510 entries (2 MB, and a few ms of every count's
 * start-up to fill).
 */
const SMALL_PRIMES = [2, 3, 5, 7, 11, 13, 17]
export const TINY_MAX_A = SMALL_PRIMES.length
/** The largest a with a table of its own. */
const TABLE_MAX_A = TINY_MAX_A - 1

const TINY_PRODUCT: number[] = [1]
const TINY_TOTIENT: number[] = [1]
const TABLES: Uint32Array[] = [Uint32Array.of(0)]

for (let a = 1; a <= TABLE_MAX_A; a++) {
  const p = SMALL_PRIMES[a - 1]
  const product = TINY_PRODUCT[a - 1] * p
  TINY_PRODUCT.push(product)
  TINY_TOTIENT.push(TINY_TOTIENT[a - 1] * (p - 1))
  TABLES.push(coprimeCounts(product, SMALL_PRIMES.slice(0, a)))
}

/** phi(r, a) for r < product = p_1 ... p_a: a running count of the r coprime to the product, from one sieve of [0, product). */
function coprimeCounts (product: number, primes: number[]): Uint32Array {
  const struck = new Uint8Array(product)
  for (const p of primes) for (let m = 0; m < product; m += p) struck[m] = 1
  const table = new Uint32Array(product)
  let count = 0
  for (let r = 1; r < product; r++) {
    if (struck[r] === 0) count++
    table[r] = count
  }
  return table
}

function phiTable (t: number, a: number): number {
  if (a === 0) return t
  const product = TINY_PRODUCT[a]
  const q = Math.floor(t / product)
  return q * TINY_TOTIENT[a] + TABLES[a][t - q * product]
}

/** phi(t, a) for a <= 7 and 0 <= t < 2^53 (so the product below stays exact: it is <= t). */
export function phiTinyNumber (t: number, a: number): number {
  if (a <= TABLE_MAX_A) return phiTable(t, a)
  return phiTable(t, TABLE_MAX_A) - phiTable(Math.floor(t / SMALL_PRIMES[TABLE_MAX_A]), TABLE_MAX_A)
}

function phiTableBig (t: bigint, a: number): bigint {
  if (a === 0) return t
  const product = BigInt(TINY_PRODUCT[a])
  return t / product * BigInt(TINY_TOTIENT[a]) + BigInt(TABLES[a][Number(t % product)])
}

/** phi(t, a) for a <= 7 and any t >= 0. */
export function phiTinyBig (t: bigint, a: number): bigint {
  if (t < 2n ** 52n) return BigInt(phiTinyNumber(Number(t), a))
  if (a <= TABLE_MAX_A) return phiTableBig(t, a)
  return phiTableBig(t, TABLE_MAX_A) - phiTableBig(t / BigInt(SMALL_PRIMES[TABLE_MAX_A]), TABLE_MAX_A)
}
