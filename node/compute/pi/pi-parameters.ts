import { isqrt } from '../isqrt.ts'

/**
 * The parameters of one Deléglise–Rivat computation of pi(x). The coordinator computes them
 * once and ships the integers to every peer: a float-derived y recomputed elsewhere could
 * differ by one, and then the shards would not add up.
 */
export interface PiParameters {
  x: bigint
  /** x^(1/3) <= y <= x^(1/2): the leaves m are <= y, the tables (primes, mu, lpf, pi) go to y. */
  y: number
  /** floor(x / y): the hard leaves are sieved over [0, z). */
  z: number
  /** Leaves with b <= c are folded into S1 by the tiny phi tables (p_c <= 17). */
  c: number
  /**
   * Numbers from this up are held as wide pairs (see wide-number.ts); 2^52 unless a test
   * lowers it to run the path that x above 2^52 takes at a small x.
   */
  narrowBelow?: number
}

/**
 * Below this, sieving [0, x] is as fast as building the tables: no combinatorial method.
 * It lives here, with no heavy imports, so that the coordinating thread and node can decide
 * without loading (and building the tables of) the leaf code.
 */
export const SIEVE_BELOW = 10_000_000n

/** Hard-leaf shard bounds must be multiples of this (whole 32-bit words of the mod-30 sieve). */
export const SHARD_ALIGN = 240

/** The largest c: phi(t, 7) by one table of 510510 entries. */
export const MAX_C = 7

/** Integer cube root: the largest r with r^3 <= n (n < 2^64). */
export function icbrt (n: bigint): bigint {
  if (n < 1n) return 0n
  let r = BigInt(Math.floor(Math.cbrt(Number(n))))
  while (r * r * r > n) r--
  while ((r + 1n) * (r + 1n) * (r + 1n) <= n) r++
  return r
}

/**
 * alpha = y / x^(1/3): a larger alpha moves work from the hard leaves (a sieve up to x/y)
 * to the tables and easy leaves (up to y). The cubic in ln x is the Deléglise–Rivat fit of
 * primecount's benchmarks, scaled by ALPHA_SCALE, measured on this code: with the hard-leaf
 * sieve in WebAssembly and the easy leaves in JavaScript, a smaller y pays (CPU seconds of
 * one thread, Intel Xeon: pi(1e15) 3.29 at the fit's alpha, 3.09 at 0.72 of it, 3.02 at 0.5;
 * pi(1e16) 14.7, 12.7 at 0.67, 13.2 at 0.5; flat at 1e13). It also moves work from the easy
 * leaves, which one thread computes, to the hard leaves, which the mesh shares out.
 */
const ALPHA_SCALE = 0.7
function alphaFor (x: bigint): number {
  const xf = Number(x)
  const l = Math.log(xf)
  let alpha = xf > 1e9 ? 0.00148918 * l ** 3 - 0.0691909 * l ** 2 + 1.00165 * l + 0.372253 : 0.078173 * l + 1
  alpha *= ALPHA_SCALE
  const max = Math.max(1, xf ** (1 / 6))
  if (alpha < 1) alpha = 1
  if (alpha > max) alpha = max
  return Math.floor(alpha * 1000) / 1000
}

export function piParameters (x: bigint, alpha = alphaFor(x)): PiParameters {
  if (x < 1n) throw new RangeError('x must be >= 1')
  const root3 = icbrt(x)
  let y = BigInt(Math.floor(Number(root3) * alpha))
  const sqrtX = isqrt(x)
  if (y < root3) y = root3
  if (y > sqrtX) y = sqrtX
  if (y < 1n) y = 1n
  const z = x / y
  return { x, y: Number(y), z: Number(z), c: MAX_C }
}
