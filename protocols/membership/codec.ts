import {
  MAX_ADDRS, MAX_ADDR_LENGTH, MAX_MEMBERSHIP_MESSAGE_BYTES,
  MAX_ROLES, MAX_ROLE_LENGTH, MAX_SERVICES, MAX_SERVICE_NAME_LENGTH, MAX_VERSION_LENGTH,
  MAX_WORKERS, MEMBERSHIP_WIRE_VERSION
} from './constants.ts'
import { describeValue, fieldChecks, isRecord, parseJsonObject } from '../json.ts'
import { MAX_NICK_LENGTH, nickProblem } from '../names.ts'
import { InvalidMembershipMessageError } from './errors.ts'
import type { Heartbeat, Leave, MemberClaim, MembershipMessage } from './messages.ts'

const encoder = new TextEncoder()

/** Encodes a message as UTF-8 JSON. Throws if it would exceed the size a receiver accepts. */
export function encodeMembershipMessage (message: MembershipMessage): Uint8Array {
  const bytes = encoder.encode(JSON.stringify(message))
  if (bytes.byteLength > MAX_MEMBERSHIP_MESSAGE_BYTES) {
    throw new InvalidMembershipMessageError('too-large', `membership message of ${bytes.byteLength} bytes exceeds ${MAX_MEMBERSHIP_MESSAGE_BYTES}`)
  }
  return bytes
}

/**
 * Decodes and validates a message from the wire. Every field is checked for type, range and
 * length before use; anything else throws InvalidMembershipMessageError with a reason label.
 */
export function decodeMembershipMessage (bytes: Uint8Array): MembershipMessage {
  if (bytes.byteLength > MAX_MEMBERSHIP_MESSAGE_BYTES) fail('too-large', `${bytes.byteLength} bytes exceeds ${MAX_MEMBERSHIP_MESSAGE_BYTES}`)
  const raw = parseJsonObject(bytes, fail)
  if (raw.v !== MEMBERSHIP_WIRE_VERSION) fail('bad-version', `unsupported wire version ${String(raw.v)}`)
  switch (raw.type) {
    case 'heartbeat': return decodeHeartbeat(raw)
    case 'suspect':
    case 'dead': return decodeClaim(raw, raw.type)
    case 'leave': return decodeLeave(raw)
    default: fail('bad-type', `unknown message type ${describeValue(raw.type)}`)
  }
}

function decodeHeartbeat (raw: Record<string, unknown>): Heartbeat {
  const workers = raw.workers
  if (!isRecord(workers)) fail('bad-field', 'workers must be an object')
  const total = uint(workers.total, 'workers.total', MAX_WORKERS)
  const free = uint(workers.free, 'workers.free', MAX_WORKERS)
  if (free > total) fail('bad-field', 'workers.free exceeds workers.total')
  const nick = str(raw.nick, 'nick', MAX_NICK_LENGTH)
  // Nicks reach terminals (`mesh start`'s log, the shell's notices, `mesh peers`): the rule
  // that `mesh start --name` applies keeps escape sequences and blanks out of them.
  const problem = nickProblem(nick)
  if (problem != null) fail('bad-field', `nick ${problem}`)
  return {
    type: 'heartbeat',
    v: MEMBERSHIP_WIRE_VERSION,
    id: peerId(raw.id, 'id'),
    nick,
    incarnation: uint(raw.incarnation, 'incarnation'),
    seq: uint(raw.seq, 'seq'),
    workers: { total, free },
    queue: uint(raw.queue, 'queue'),
    load: finite(raw.load, 'load', 0, 1e6),
    services: strList(raw.services, 'services', MAX_SERVICES, MAX_SERVICE_NAME_LENGTH),
    roles: strList(raw.roles, 'roles', MAX_ROLES, MAX_ROLE_LENGTH),
    version: str(raw.version, 'version', MAX_VERSION_LENGTH),
    addrs: strList(raw.addrs, 'addrs', MAX_ADDRS, MAX_ADDR_LENGTH)
  }
}

function decodeClaim (raw: Record<string, unknown>, type: 'suspect' | 'dead'): MemberClaim {
  return {
    type,
    v: MEMBERSHIP_WIRE_VERSION,
    by: peerId(raw.by, 'by'),
    target: peerId(raw.target, 'target'),
    incarnation: uint(raw.incarnation, 'incarnation')
  }
}

function decodeLeave (raw: Record<string, unknown>): Leave {
  return {
    type: 'leave',
    v: MEMBERSHIP_WIRE_VERSION,
    id: peerId(raw.id, 'id'),
    incarnation: uint(raw.incarnation, 'incarnation')
  }
}

function fail (reason: string, message: string): never {
  throw new InvalidMembershipMessageError(reason, message)
}

const check = fieldChecks(fail)
const uint = (value: unknown, field: string, max?: number): number => check.wholeNumber(value, field, max)
const { number: finite, string: str, stringList: strList, peerId } = check
