import { fieldChecks } from '../json.ts'
import { InvalidChatMessageError } from './errors.ts'

/** Every chat decoder fails the same way: InvalidChatMessageError with a reason label. */
export function fail (reason: string, message: string): never {
  throw new InvalidChatMessageError(reason, message)
}

export const check = fieldChecks(fail)

/** A whole number from 0 to `max`. */
export function uint (value: unknown, field: string, max = Number.MAX_SAFE_INTEGER): number {
  return check.wholeNumber(value, field, max)
}

/** A peer id in base58btc: a cheap shape check; the signature check does the real work. */
export const peerId = check.peerId
