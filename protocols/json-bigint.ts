const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

/**
 * A bigint as a JSON value: a number while a double holds it exactly (|n| <= 2^53 - 1), a
 * decimal string beyond, so a script reading the JSON never gets a silently rounded count.
 */
export function bigintJson (value: bigint): number | string {
  return value <= MAX_SAFE && value >= -MAX_SAFE ? Number(value) : value.toString()
}
