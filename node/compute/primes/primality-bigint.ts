/**
 * Miller-Rabin on BigInt, for numbers beyond the Number path: deterministic with Sinclair's
 * seven bases below 2^64, and the base-2 half of BPSW above.
 */

/** base^exponent mod modulus, for modulus > 1 and exponent ≥ 0. */
export function powMod (base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n
  const power = base % modulus
  // Left-to-right over the exponent's bits: one squaring per bit, a multiply per set bit.
  const bits = exponent.toString(2)
  for (let i = 0; i < bits.length; i++) {
    result = (result * result) % modulus
    if (bits.charCodeAt(i) === 49) result = (result * power) % modulus
  }
  return result
}

/** n - 1 = d·2^s with d odd, for odd n > 2. */
export function splitPowerOfTwo (m: bigint): { d: bigint, s: number } {
  let d = m
  let s = 0
  while ((d & 1n) === 0n) {
    d >>= 1n
    s++
  }
  return { d, s }
}

/** Strong probable-prime test of odd n > 3 to base a: true for every prime n. */
export function strongProbablePrimeBigInt (n: bigint, a: bigint): boolean {
  const base = a % n
  if (base === 0n) return true
  const minusOne = n - 1n
  const { d, s } = splitPowerOfTwo(minusOne)
  let x = powMod(base, d, n)
  if (x === 1n || x === minusOne) return true
  for (let i = 1; i < s; i++) {
    x = (x * x) % n
    if (x === minusOne) return true
    if (x === 1n) return false
  }
  return false
}

const SINCLAIR_BASES = [2n, 325n, 9375n, 28178n, 450775n, 9780504n, 1795265022n]

/** Deterministic Miller-Rabin for odd n with 3 < n < 2^64 (Sinclair's bases). */
export function millerRabinBigInt (n: bigint): boolean {
  for (const a of SINCLAIR_BASES) {
    if (!strongProbablePrimeBigInt(n, a)) return false
  }
  return true
}
