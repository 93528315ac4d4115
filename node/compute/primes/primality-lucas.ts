/**
 * The strong Lucas probable-prime test with Selfridge's method A parameters, the second half
 * of BPSW (Baillie & Wagstaff 1980; FIPS 186-5 B.3.3 spells out the same steps).
 */

/** Jacobi symbol (a/n) for odd n > 0. */
export function jacobi (a: bigint, n: bigint): number {
  let x = a % n
  if (x < 0n) x += n
  let m = n
  let result = 1
  while (x !== 0n) {
    while ((x & 1n) === 0n) {
      x >>= 1n
      // (2/m) = -1 exactly when m ≡ 3 or 5 (mod 8).
      const r = m & 7n
      if (r === 3n || r === 5n) result = -result
    }
    const swap = x
    x = m
    m = swap
    // Quadratic reciprocity: the sign flips when both are ≡ 3 (mod 4).
    if ((x & 3n) === 3n && (m & 3n) === 3n) result = -result
    x %= m
  }
  return m === 1n ? result : 0
}

/** floor(sqrt(n)) for n ≥ 0, by Newton's method from an estimate above the root. */
export function integerSqrt (n: bigint): bigint {
  if (n < 2n) return n
  // 2^ceil(bits/2) is at least the root, and Newton's iteration decreases from above.
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2))
  for (;;) {
    const next = (x + n / x) >> 1n
    if (next >= x) return x
    x = next
  }
}

export function isPerfectSquare (n: bigint): boolean {
  if (n < 0n) return false
  // Squares mod 16 are only 0, 1, 4, 9: this rejects 3 in 4 non-squares for free.
  const r = Number(n & 15n)
  if (r !== 0 && r !== 1 && r !== 4 && r !== 9) return false
  const root = integerSqrt(n)
  return root * root === n
}

/**
 * Selfridge's method A: the first D in 5, -7, 9, -11, ... with (D/n) = -1. Returns 0n when
 * some D shares a factor with n (so n is composite). n must be odd, > 3 and not a square;
 * a square has (D/n) ≠ -1 for every D and would loop forever.
 */
export function selfridgeD (n: bigint): bigint {
  let d = 5n
  for (;;) {
    const j = jacobi(d, n)
    if (j === -1) return d
    // (D/n) = 0 means gcd(D, n) > 1; unless |D| is n itself, n is composite.
    if (j === 0 && (d < 0n ? -d : d) !== n) return 0n
    d = d > 0n ? -(d + 2n) : -d + 2n
  }
}

function mod (x: bigint, n: bigint): bigint {
  const r = x % n
  return r < 0n ? r + n : r
}

/** x/2 mod n for odd n and 0 ≤ x < n. */
function half (x: bigint, n: bigint): bigint {
  return (x & 1n) === 0n ? x >> 1n : (x + n) >> 1n
}

/**
 * Strong Lucas probable-prime test for odd n > 3 that is not a perfect square. With
 * n + 1 = d·2^s, n passes when U_d ≡ 0 or V_{d·2^r} ≡ 0 (mod n) for some 0 ≤ r < s,
 * for the sequences with P = 1, Q = (1 - D)/4.
 */
export function strongLucasProbablePrime (n: bigint): boolean {
  const D = selfridgeD(n)
  if (D === 0n) return false
  const P = 1n
  const Q = mod((1n - D) / 4n, n)
  const dMod = mod(D, n)

  let d = n + 1n
  let s = 0
  while ((d & 1n) === 0n) {
    d >>= 1n
    s++
  }

  // Walk d's bits from the top: doubling k -> 2k, then k -> k + 1 on a set bit.
  // U_2k = U_k·V_k, V_2k = V_k² - 2Q^k, U_k+1 = (P·U_k + V_k)/2, V_k+1 = (D·U_k + P·V_k)/2.
  let U = 1n
  let V = P
  let Qk = Q
  const bits = d.toString(2)
  for (let i = 1; i < bits.length; i++) {
    U = (U * V) % n
    V = mod(V * V - 2n * Qk, n)
    Qk = (Qk * Qk) % n
    if (bits.charCodeAt(i) === 49) {
      const nextU = half((P * U + V) % n, n)
      V = half((dMod * U + P * V) % n, n)
      U = nextU
      Qk = (Qk * Q) % n
    }
  }

  if (U === 0n || V === 0n) return true
  for (let r = 1; r < s; r++) {
    V = mod(V * V - 2n * Qk, n)
    if (V === 0n) return true
    Qk = (Qk * Qk) % n
  }
  return false
}
