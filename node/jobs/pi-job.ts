import { InvalidArgumentsError } from '../../protocols/rpc/index.ts'
import { piParameters, SHARD_ALIGN, SIEVE_BELOW, type PiParameters } from '../compute/pi/pi-parameters.ts'
import { parametersFromWire, parametersToWire, type PiParametersWire } from '../compute/pi/pi-wire.ts'
import { countRange } from '../compute/primes/index.ts'
import type { ShardRange, ShardResult } from '../compute/scheduler/types.ts'

export const PRIMES_PI_KIND = 'primes.pi'

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
}

/** Where unit u of an end starts in [0, z): a multiple of 240, or z for u = UNITS_PER_END. */
function unitStart (params: PiParameters, u: number): number {
  if (u <= 0) return 0
  if (u >= UNITS_PER_END) return params.z
  const base = Math.max(SHARD_ALIGN, params.y / 4)
  const t = base * (params.z / base) ** (u / UNITS_PER_END)
  return Math.min(params.z, Math.floor(t / SHARD_ALIGN) * SHARD_ALIGN)
}

/** One piece of a shard, as it crosses to a peer. */
export interface PiPiece {
  params: PiParametersWire
  low: number
  high: number
  negate: boolean
}

export function planPiJob (from: bigint, to: bigint): PiJobPlan {
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
    ends.push({ params, negate, first, blocks })
    first += blocks
  }
  add(to, false)
  if (from >= 2n) add(from - 1n, true)
  return { ends, sieved, blocks: Math.max(1, first) }
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
    if (low < high) out.push({ params: parametersToWire(end.params), low, high, negate: end.negate })
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

/** A peer's hard-leaf shard request, checked: { pieces: [{ params, low, high, negate }] }. */
export function parsePieces (args: unknown): Array<{ params: PiParameters, low: number, high: number, negate: boolean }> {
  if (typeof args !== 'object' || args === null) throw new InvalidArgumentsError('primes.hard-leaves takes { pieces }')
  const pieces = (args as Record<string, unknown>).pieces
  if (!Array.isArray(pieces) || pieces.length < 1 || pieces.length > MAX_PIECES) throw new InvalidArgumentsError(`pieces must be an array of 1 to ${MAX_PIECES}`)
  return pieces.map((raw: unknown) => {
    if (typeof raw !== 'object' || raw === null) throw new InvalidArgumentsError('a piece must be an object')
    const { params, low, high, negate } = raw as Record<string, unknown>
    let parsed: PiParameters
    try {
      parsed = parametersFromWire(params)
    } catch (err: any) {
      throw new InvalidArgumentsError(String(err?.message ?? err))
    }
    if (typeof low !== 'number' || !Number.isSafeInteger(low) || low < 0 || low % SHARD_ALIGN !== 0) throw new InvalidArgumentsError('low must be a whole multiple of 240')
    if (typeof high !== 'number' || !Number.isSafeInteger(high) || high <= low || high > parsed.z) throw new InvalidArgumentsError('high must lie in (low, z]')
    if (typeof negate !== 'boolean') throw new InvalidArgumentsError('negate must be a boolean')
    return { params: parsed, low, high, negate }
  })
}
