export type CountMethod = 'combinatorial' | 'sieve'
export const COUNT_METHODS: readonly CountMethod[] = ['combinatorial', 'sieve']

/**
 * The cheaper way to count the primes in [from, to]. Sieving costs about the width; the
 * combinatorial pi(to) - pi(from - 1) about to^(2/3) per end (measured on this code: 1e15
 * in ~8 s of one core, where sieving 1e10 numbers takes ~2 s). So an interval wider than
 * ~8 * to^(2/3) goes combinatorial, and a narrow one high up stays on the sieve.
 */
export function chooseMethod (from: bigint, to: bigint): CountMethod {
  const width = Number(to - from + 1n)
  const height = Number(to)
  return width >= 1e8 && width > 8 * height ** (2 / 3) ? 'combinatorial' : 'sieve'
}
