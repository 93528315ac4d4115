import { isqrt } from '../isqrt.ts'
import { icbrt, MAX_C, type PiParameters } from './pi-parameters.ts'

/** Parameters as they cross threads and the network: x as a decimal string, the rest integers. */
export interface PiParametersWire {
  x: string
  y: number
  z: number
  c: number
}

/** y is at most 38.6 * (2^64)^(1/3) ≈ 1e8 for the default alpha; tables are about 12 bytes per y. */
export const MAX_Y = 2 ** 28
const MAX_X = (1n << 64n) - 1n
const DECIMAL = /^[1-9][0-9]{0,19}$/

export class InvalidPiParametersError extends Error {
  override name = 'InvalidPiParametersError'
}

export function parametersToWire (p: PiParameters): PiParametersWire {
  return { x: p.x.toString(), y: p.y, z: p.z, c: p.c }
}

/**
 * Checks parameters from another thread or peer: a hostile or broken coordinator must not
 * make this node build tables of any size, or compute a sum that is wrong without failing.
 */
export function parametersFromWire (raw: unknown): PiParameters {
  if (typeof raw !== 'object' || raw === null) throw new InvalidPiParametersError('pi parameters must be an object')
  const { x, y, z, c } = raw as Record<string, unknown>
  if (typeof x !== 'string' || !DECIMAL.test(x)) throw new InvalidPiParametersError('x must be a decimal string')
  const xb = BigInt(x)
  if (xb > MAX_X) throw new InvalidPiParametersError('x must be below 2^64')
  if (typeof y !== 'number' || !Number.isSafeInteger(y) || y < 1 || y > MAX_Y) throw new InvalidPiParametersError(`y must be a whole number in [1, ${MAX_Y}]`)
  if (BigInt(y) < icbrt(xb) || BigInt(y) > isqrt(xb)) throw new InvalidPiParametersError('y must lie in [x^(1/3), x^(1/2)]')
  if (typeof z !== 'number' || BigInt(z) !== xb / BigInt(y)) throw new InvalidPiParametersError('z must be floor(x / y)')
  if (c !== MAX_C) throw new InvalidPiParametersError(`c must be ${MAX_C}`)
  return { x: xb, y, z, c }
}
