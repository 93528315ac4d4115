import { InvalidArgumentsError } from '../../protocols/rpc/index.ts'
import { piParameters, SHARD_ALIGN, SIEVE_BELOW, type PiParameters } from '../compute/pi/pi-parameters.ts'
import { parametersFromWire, parametersToWire, type PiParametersWire } from '../compute/pi/pi-wire.ts'
import { countRange } from '../compute/primes/index.ts'
import type { ShardRange, ShardResult } from '../compute/scheduler/types.ts'

export const PRIMES_PI_KIND = 'primes.pi'
/**
 * A combinatorial count whose shards carry the easy leaves as well as the hard ones, so that
 * the coordinator keeps only S1 and P2. Its own kind: a journal of a `primes.pi` job (shards
 * of hard leaves alone) must resume as that.
 */
export const PRIMES_PI_SPLIT_KIND = 'primes.pi-split'

/**
 * A combinatorial count of the primes in [from, to] is pi(to) - pi(from - 1). Each end's hard
 * leaves live in [0, z); the scheduler sees them as one line of UNITS_PER_END units per end,
 * to's first, then from - 1's, and cuts that line into shards as it cuts a prime range. The
 * work of the hard leaves peaks near y and then falls off about as 1 / t, so a unit spans a
 * fixed ratio of [y / 4, z) (the first one all of [0, y / 4)): units then hold similar work,
 * and the scheduler's rate per unit stays meaningful from the first shard to the last. A shard
 * maps back to at most two pieces (one per end), each a pure function of (parameters, low, high).
 */
const UNITS_PER_END = 1 << 16
export interface PiJobPlan {
  ends: PiEnd[]
  /** The shards carry the easy leaves too (PRIMES_PI_SPLIT_KIND). */
  easyInShards: boolean
  /** pi of the ends small enough to sieve, signed, added on the coordinator. */
  sieved: bigint
  /** Blocks of the line; at least 1, so a job always has a shard. */
  blocks: number
}

export interface PiEnd {
  params: PiParameters
  negate: boolean
  /** This end's first unit on the line, and its unit count. */
  first: number
  blocks: number
  /** With easyInShards: the prime bound of the easy leaves at each of EASY_KNOTS + 1 knots of the line. */
  easyKnots?: Float64Array
}

/** Where unit u of an end starts in [0, z): a multiple of 240, or z for u = UNITS_PER_END. */
function unitStart (params: PiParameters, u: number): number {
  if (u <= 0) return 0
  if (u >= UNITS_PER_END) return params.z
  const base = Math.max(SHARD_ALIGN, params.y / 4)
  const t = base * (params.z / base) ** (u / UNITS_PER_END)
  return Math.min(params.z, Math.floor(t / SHARD_ALIGN) * SHARD_ALIGN)
}

/**
 * The easy leaves go along the line too: unit u carries those of the primes p_b in
 * [easyBound(u), easyBound(u + 1)). The bounds come from an estimate of the easy leaves below
 * each p (pi(t) ~ t / ln t), so that every unit holds about as many; the coordinator alone
 * computes them and ships them as integers, so peers need not agree on any rounding, and any
 * monotone bounds from 0 to y + 1 cover every b exactly once.
 */
const EASY_KNOTS = 1024

function easyKnots (params: PiParameters): Float64Array {
  const x = Number(params.x)
  const { y, z } = params
  const piOf = (t: number): number => t < 3 ? Math.max(0, t - 1) : t / Math.log(t)
  const from = Math.max(2, Math.sqrt(y))
  const ratio = Math.max(1, y / from)
  // Cumulative estimate of easy leaves on a geometric grid of p from sqrt(y) to y.
  const grid = new Float64Array(EASY_KNOTS + 1)
  const cum = new Float64Array(EASY_KNOTS + 1)
  let last = 0
  for (let i = 0; i <= EASY_KNOTS; i++) {
    const p = from * ratio ** (i / EASY_KNOTS)
    const leaves = Math.max(0, piOf(Math.min(y, x / (p * p))) - piOf(Math.max(p, Math.min(y, z / p))))
    const density = leaves / Math.log(Math.max(p, 3))
    grid[i] = p
    if (i > 0) cum[i] = cum[i - 1] + (density + last) / 2 * (p - grid[i - 1])
    last = density
  }
  const total = cum[EASY_KNOTS]
  const knots = new Float64Array(EASY_KNOTS + 1)
  let j = 0
  for (let k = 1; k < EASY_KNOTS; k++) {
    const target = total * k / EASY_KNOTS
    while (j < EASY_KNOTS && cum[j + 1] < target) j++
    const span = cum[j + 1] - cum[j]
    const p = j >= EASY_KNOTS ? y : grid[j] + (span > 0 ? (target - cum[j]) / span : 0) * (grid[j + 1] - grid[j])
    knots[k] = Math.max(knots[k - 1], Math.min(y, Math.floor(p)))
  }
  knots[EASY_KNOTS] = y + 1
  return knots
}

/** The prime bound of the easy leaves at unit u of an end (0 at u = 0, y + 1 at the end). */
function easyBound (end: PiEnd, u: number): number {
  const knots = end.easyKnots as Float64Array
  if (u <= 0) return 0
  if (u >= UNITS_PER_END) return knots[EASY_KNOTS]
  return knots[Math.floor(u * EASY_KNOTS / UNITS_PER_END)]
}

/** One piece of a shard, as it crosses to a peer. */
export interface PiPiece {
  params: PiParametersWire
  low: number
  high: number
  negate: boolean
  /** The easy leaves of the primes in [easy.from, easy.to) too (PRIMES_PI_SPLIT_KIND jobs only). */
  easy?: { from: number, to: number }
}

/**
 * Up to this x every task of pi(x) is short: the easy terms take 0.13 s at 1e13 and 0.4 s at
 * 1e14 on a busy 2-core machine, all its hard leaves together about as long.
 */
const SHORT_PI_MAX_X = 100_000_000_000_000n

/**
 * Whether pi(x)'s tasks may run as urgent pool tasks: a small count started while a big one
 * holds every worker (its easy terms alone take a minute or more at 1e18) does not wait for it.
 */
export function isShortPiCount (x: bigint): boolean {
  return x <= SHORT_PI_MAX_X
}

export function planPiJob (from: bigint, to: bigint, easyInShards = false): PiJobPlan {
  const ends: PiEnd[] = []
  let sieved = 0n
  let first = 0
  const add = (x: bigint, negate: boolean): void => {
    if (x < SIEVE_BELOW) {
      const count = x < 2n ? 0n : countRange(0n, x, { details: false }).count
      sieved += negate ? -count : count
      return
    }
    const params = piParameters(x)
    const blocks = UNITS_PER_END
    ends.push({ params, negate, first, blocks, ...(easyInShards ? { easyKnots: easyKnots(params) } : {}) })
    first += blocks
  }
  add(to, false)
  if (from >= 2n) add(from - 1n, true)
  return { ends, sieved, blocks: Math.max(1, first), easyInShards }
}

/** The pieces of the shard covering blocks [range.from, range.to]. */
export function piecesOf (plan: PiJobPlan, range: Pick<ShardRange, 'from' | 'to'>): PiPiece[] {
  const from = Number(range.from)
  const to = Number(range.to) + 1
  const out: PiPiece[] = []
  for (const end of plan.ends) {
    const a = Math.max(from, end.first) - end.first
    const b = Math.min(to, end.first + end.blocks) - end.first
    if (a >= b) continue
    const low = unitStart(end.params, a)
    const high = unitStart(end.params, b)
    const easy = plan.easyInShards ? { from: easyBound(end, a), to: easyBound(end, b) } : undefined
    if (low < high || (easy != null && easy.from < easy.to)) {
      out.push({ params: parametersToWire(end.params), low, high, negate: end.negate, ...(easy != null ? { easy } : {}) })
    }
  }
  return out
}

/** A shard's signed sum travels in the count field of a shard result, mod 2^64. */
export function resultOfSum (sum: bigint): ShardResult {
  return { count: BigInt.asUintN(64, sum), sum: 0n, first: null, last: null }
}

/** The signed total of accepted shard results (each |partial sum| < 2^63, as is the total). */
export function sumOfResults (count: bigint): bigint {
  return BigInt.asIntN(64, count)
}

/** What a hard-leaf result may look like: no first, last or prime sum. */
export function piResultImplausibility (_range: ShardRange, result: ShardResult): string | null {
  if (result.sum !== 0n || result.first != null || result.last != null) return 'a hard-leaf result carries only its sum'
  return null
}

/** At most one piece per end of the interval. */
const MAX_PIECES = 2

/**
 * A peer's shard request, checked: { pieces: [{ params, low, high, negate, easy? }] }; `easy`
 * ({ from, to }, whole numbers, 0 <= from <= to <= y + 1) is required with `withEasy`
 * (`primes.leaves`) and refused without (`primes.hard-leaves`, whose sums are hard leaves alone).
 */
export function parsePieces (args: unknown, withEasy = false): Array<{ params: PiParameters, low: number, high: number, negate: boolean, easy?: { from: number, to: number } }> {
  if (typeof args !== 'object' || args === null) throw new InvalidArgumentsError('a leaf shard takes { pieces }')
  const pieces = (args as Record<string, unknown>).pieces
  if (!Array.isArray(pieces) || pieces.length < 1 || pieces.length > MAX_PIECES) throw new InvalidArgumentsError(`pieces must be an array of 1 to ${MAX_PIECES}`)
  return pieces.map((raw: unknown) => {
    if (typeof raw !== 'object' || raw === null) throw new InvalidArgumentsError('a piece must be an object')
    const { params, low, high, negate, easy } = raw as Record<string, unknown>
    let parsed: PiParameters
    try {
      parsed = parametersFromWire(params)
    } catch (err: any) {
      throw new InvalidArgumentsError(String(err?.message ?? err))
    }
    if (typeof low !== 'number' || !Number.isSafeInteger(low) || low < 0 || low % SHARD_ALIGN !== 0) throw new InvalidArgumentsError('low must be a whole multiple of 240')
    if (typeof negate !== 'boolean') throw new InvalidArgumentsError('negate must be a boolean')
    if (!withEasy) {
      if (easy !== undefined) throw new InvalidArgumentsError('a hard-leaf piece carries no easy leaves')
      if (typeof high !== 'number' || !Number.isSafeInteger(high) || high <= low || high > parsed.z) throw new InvalidArgumentsError('high must lie in (low, z]')
      return { params: parsed, low, high, negate }
    }
    // With easy leaves a piece may have no hard leaves: units narrower than 240 numbers.
    if (typeof high !== 'number' || !Number.isSafeInteger(high) || high < low || high > parsed.z) throw new InvalidArgumentsError('high must lie in [low, z]')
    if (typeof easy !== 'object' || easy === null) throw new InvalidArgumentsError('easy must be { from, to }')
    const { from, to } = easy as Record<string, unknown>
    if (typeof from !== 'number' || typeof to !== 'number' || !Number.isSafeInteger(from) || !Number.isSafeInteger(to) ||
      from < 0 || from > to || to > parsed.y + 1) throw new InvalidArgumentsError('easy must hold whole numbers 0 <= from <= to <= y + 1')
    return { params: parsed, low, high, negate, easy: { from, to } }
  })
}
