import { easyTerms } from './pi-combinatorial.ts'
import { hardLeaves } from './hard-leaves.ts'
import type { PiParameters } from './pi-parameters.ts'
import { buildTables, type PiTables } from './pi-tables.ts'
import { parametersFromWire } from './pi-wire.ts'

/**
 * The worker-thread side of pi(x): the tables of the last x stay, since a thread usually gets
 * many hard-leaf shards of one x in a row (building them costs 0.1 s at 1e15, 1 s at 1e17).
 */
let cached: { key: string, tables: PiTables } | null = null

function tablesFor (params: PiParameters): PiTables {
  const key = `${params.x}:${params.y}`
  if (cached?.key !== key) {
    cached = null
    cached = { key, tables: buildTables(params) }
  }
  return cached.tables
}

/** Everything but the hard leaves: { s1, s2Easy, p2 (decimal strings), piY, seconds }. */
export function easyTask (input: { params: unknown }): { s1: string, s2Easy: string, p2: string, piY: number, seconds: number } {
  const started = performance.now()
  const params = parametersFromWire(input.params)
  const terms = easyTerms(params, tablesFor(params))
  return { s1: terms.s1.toString(), s2Easy: terms.s2Easy.toString(), p2: terms.p2.toString(), piY: terms.piY, seconds: (performance.now() - started) / 1000 }
}

/** One hard-leaf shard [low, high): its sum (decimal string) and seconds; progress = numbers done. */
export function hardTask (input: { params: unknown, low: number, high: number }, progress: (numbers: number) => void): { sum: string, seconds: number } {
  const started = performance.now()
  const params = parametersFromWire(input.params)
  let reported = 0
  const sum = hardLeaves(params, tablesFor(params), input.low, input.high, done => {
    progress(done - reported)
    reported = done
  })
  return { sum: sum.toString(), seconds: (performance.now() - started) / 1000 }
}
