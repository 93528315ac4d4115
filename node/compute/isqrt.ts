/**
 * Integer square root of a non-negative bigint: the largest x with x·x <= n. Meant for the
 * sieve's bounds (below 2^64), where a double's square root is off by at most one and the
 * loops below correct it; far beyond 2^1000 the double overflows.
 */
export function isqrt (n: bigint): bigint {
  if (n < 2n) return n
  let x = BigInt(Math.floor(Math.sqrt(Number(n))))
  while (x * x > n) x--
  while ((x + 1n) * (x + 1n) <= n) x++
  return x
}
