import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** pi(x) by the `primecount` binary on one thread (installed here and in CI). */
export async function primecount (x: bigint): Promise<bigint> {
  const { stdout } = await run('primecount', [x.toString(), '-t1'])
  return BigInt(stdout.trim())
}

/** pi of each x by primecount, `parallel` calls at a time. */
export async function primecountAll (xs: bigint[], parallel = 2): Promise<Map<bigint, bigint>> {
  const out = new Map<bigint, bigint>()
  let next = 0
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < xs.length) {
      const x = xs[next++]
      out.set(x, await primecount(x))
    }
  }))
  return out
}

/** `count` whole numbers spread evenly in log scale over [low, high), from a seeded random. */
export function logUniform (random: () => number, count: number, low: number, high: number): bigint[] {
  return Array.from({ length: count }, () => BigInt(Math.floor(Math.exp(Math.log(low) + random() * (Math.log(high) - Math.log(low))))))
}
