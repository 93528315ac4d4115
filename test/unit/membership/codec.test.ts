import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodeMembershipMessage, encodeMembershipMessage, InvalidMembershipMessageError,
  MAX_ADDRS, MAX_MEMBERSHIP_MESSAGE_BYTES, MAX_NICK_LENGTH, type Heartbeat
} from '../../../protocols/membership/index.ts'

const ID = '12D3KooWBobBobBobBobBobBobBobBobBobBobBobBobBobBobBob'
const valid: Heartbeat = {
  type: 'heartbeat', v: 1, id: ID, nick: 'bob', incarnation: 1732480000000, seq: 42,
  workers: { total: 2, free: 1 }, queue: 3, load: 2, services: ['greeter'], roles: [], version: '0.1.0',
  addrs: [`/ip4/127.0.0.1/tcp/4001/p2p/${ID}`]
}
const bytes = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))

function reasonOf (data: Uint8Array): string {
  try {
    decodeMembershipMessage(data)
    return 'accepted'
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidMembershipMessageError)
    return (err as InvalidMembershipMessageError).reason
  }
}

describe('membership codec', () => {
  it('round-trips a heartbeat, a claim and a leave', () => {
    expect(decodeMembershipMessage(encodeMembershipMessage(valid))).toEqual(valid)
    const claim = { type: 'dead' as const, v: 1, by: ID, target: ID, incarnation: 7 }
    expect(decodeMembershipMessage(encodeMembershipMessage(claim))).toEqual(claim)
    const leave = { type: 'leave' as const, v: 1, id: ID, incarnation: 7 }
    expect(decodeMembershipMessage(encodeMembershipMessage(leave))).toEqual(leave)
  })

  it('rejects a message over the size limit before parsing it', () => {
    const big = new Uint8Array(MAX_MEMBERSHIP_MESSAGE_BYTES + 1).fill(0x20)
    expect(reasonOf(big)).toBe('too-large')
    expect(() => encodeMembershipMessage({ ...valid, addrs: Array(MAX_ADDRS).fill('/ip4/1.2.3.4/tcp/1/' + 'x'.repeat(250)) })).toThrow(/exceeds/)
  })

  it('names what is wrong', () => {
    expect(reasonOf(new Uint8Array([0xff, 0xfe, 0x7b]))).toBe('bad-utf8')
    expect(reasonOf(new TextEncoder().encode('{"type":'))).toBe('bad-json')
    expect(reasonOf(bytes([1, 2]))).toBe('bad-shape')
    expect(reasonOf(bytes({ ...valid, v: 2 }))).toBe('bad-version')
    expect(reasonOf(bytes({ ...valid, type: 'gossip' }))).toBe('bad-type')
    expect(reasonOf(bytes({ ...valid, nick: 'x'.repeat(MAX_NICK_LENGTH + 1) }))).toBe('bad-field')
    // An escape sequence would rewrite the terminal of whoever prints the member list.
    expect(reasonOf(bytes({ ...valid, nick: 'bob\u001b[2J' }))).toBe('bad-field')
    expect(reasonOf(bytes({ ...valid, nick: 'bob\r' }))).toBe('bad-field')
    expect(reasonOf(bytes({ ...valid, nick: 'bob\u009b2J' }))).toBe('bad-field')
    // The nick rule of `mesh start --name`: no blanks (they split `/msg NICK TEXT`), not empty.
    expect(reasonOf(bytes({ ...valid, nick: 'bob smith' }))).toBe('bad-field')
    expect(reasonOf(bytes({ ...valid, nick: '' }))).toBe('bad-field')
    expect(reasonOf(bytes({ ...valid, workers: { total: 1, free: 2 } }))).toBe('bad-field')
    expect(reasonOf(bytes({ ...valid, incarnation: -1 }))).toBe('bad-field')
    expect(reasonOf(bytes({ ...valid, seq: 1.5 }))).toBe('bad-field')
    expect(reasonOf(bytes({ ...valid, load: 'high' }))).toBe('bad-field')
    expect(reasonOf(bytes({ ...valid, id: 'not a peer id!' }))).toBe('bad-field')
    expect(reasonOf(bytes({ ...valid, addrs: Array(MAX_ADDRS + 1).fill('/ip4/1.2.3.4/tcp/1') }))).toBe('bad-field')
    expect(reasonOf(bytes({ ...valid, services: [42] }))).toBe('bad-field')
  })

  it('never throws anything but its own error, whatever the bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 5000 }), data => {
      try {
        decodeMembershipMessage(data)
      } catch (err) {
        return err instanceof InvalidMembershipMessageError
      }
      return true
    }), { numRuns: 2000 })
  })

  it('never accepts a mutated heartbeat with a field of the wrong type', () => {
    const fields = Object.keys(valid).filter(k => k !== 'type' && k !== 'v')
    fc.assert(fc.property(fc.constantFrom(...fields), fc.oneof(fc.string(), fc.double(), fc.boolean(), fc.constant(null), fc.object()), (field, value) => {
      const original = (valid as any)[field]
      fc.pre(typeof value !== typeof original || (typeof value === 'number' && !Number.isSafeInteger(value)))
      const reason = reasonOf(bytes({ ...valid, [field]: value }))
      // load accepts any finite number in range; everything else must be rejected.
      return reason !== 'accepted' || (field === 'load' && typeof value === 'number')
    }), { numRuns: 1000 })
  })
})
