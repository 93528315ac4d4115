import { easyTerms } from './pi-combinatorial.ts'
import { easyLeaves } from './easy-leaves.ts'
import { hardLeaves } from './hard-leaves.ts'
import type { PiParameters } from './pi-parameters.ts'
import { buildTables, type PiTables } from './pi-tables.ts'
import { parametersFromWire } from './pi-wire.ts'

/**
 * The worker-thread side of pi(x): the tables of the last two x stay, since a thread usually
 * gets many hard-leaf shards of one x in a row (building them costs 0.1 s at 1e15, 1 s at
 * 1e17), and two jobs at once (a small count during a big one) would otherwise rebuild the
 * big one's tables after every shard of the small one. At most one of them is large (above
 * SMALL_TABLES_MAX_X: 10 MB at 1e15, 66 MB at 1e17), so a thread never holds two large ones.
 */
const TABLES_KEPT = 2
const SMALL_TABLES_MAX_X = 1_000_000_000_000_000n
const cached: Array<{ key: string, x: bigint, tables: PiTables }> = []

function tablesFor (params: PiParameters): PiTables {
  const key = `${params.x}:${params.y}`
  const at = cached.findIndex(entry => entry.key === key)
  if (at >= 0) {
    const [hit] = cached.splice(at, 1)
    cached.unshift(hit)
    return hit.tables
  }
  // Let go before building, so the old tables are collectable while the new ones grow.
  if (cached.length >= TABLES_KEPT) cached.pop()
  if (params.x > SMALL_TABLES_MAX_X) {
    const large = cached.findIndex(entry => entry.x > SMALL_TABLES_MAX_X)
    if (large >= 0) cached.splice(large, 1)
  }
  const fresh = { key, x: params.x, tables: buildTables(params) }
  cached.unshift(fresh)
  return fresh.tables
}

/**
 * Everything but the hard leaves: { s1, s2Easy, p2 (decimal strings), piY, seconds }; with
 * `easyLeaves: false`, everything but the hard and the easy leaves (s2Easy "0"), which the
 * shards then carry.
 */
export function easyTask (input: { params: unknown, easyLeaves?: boolean }): { s1: string, s2Easy: string, p2: string, piY: number, seconds: number } {
  const started = performance.now()
  const params = parametersFromWire(input.params)
  const terms = easyTerms(params, tablesFor(params), input.easyLeaves !== false)
  return { s1: terms.s1.toString(), s2Easy: terms.s2Easy.toString(), p2: terms.p2.toString(), piY: terms.piY, seconds: (performance.now() - started) / 1000 }
}

/**
 * One hard-leaf shard [low, high), and with `easy` the easy leaves of the primes p_b in
 * [easy.from, easy.to) too: its sum (decimal string) and seconds; progress = numbers done.
 */
export function hardTask (input: { params: unknown, low: number, high: number, easy?: { from: number, to: number } },
  progress: (numbers: number) => void): { sum: string, seconds: number } {
  const started = performance.now()
  const params = parametersFromWire(input.params)
  const tables = tablesFor(params)
  let reported = 0
  let sum = hardLeaves(params, tables, input.low, input.high, done => {
    progress(done - reported)
    reported = done
  })
  if (input.easy != null) sum += easyLeaves(params, tables, input.easy.from, input.easy.to)
  return { sum: sum.toString(), seconds: (performance.now() - started) / 1000 }
}
