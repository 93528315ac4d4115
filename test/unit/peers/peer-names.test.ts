import { describe, expect, it } from 'vitest'
import { AmbiguousPeerError, resolvePeerName, UnknownPeerError } from '../../../node/peers/peer-names.ts'

const alice = { id: '12D3KooWAliceAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1', nick: 'alice', state: 'alive' }
const bob1 = { id: '12D3KooWBobBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBx1y2z3', nick: 'bob', state: 'alive' }
const bob2 = { id: '12D3KooWBobCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCq9r8s7', nick: 'bob', state: 'alive' }
const bobDead = { ...bob2, state: 'dead' }

describe('resolvePeerName: every way a user names a peer', () => {
  it('accepts the full id, an id suffix with or without …, a nick and nick#suffix', () => {
    const peers = [alice, bob1]
    expect(resolvePeerName(alice.id, peers)).toBe(alice)
    expect(resolvePeerName('AAAAAA1', peers)).toBe(alice)
    expect(resolvePeerName('…x1y2z3', peers)).toBe(bob1)
    expect(resolvePeerName('bob', peers)).toBe(bob1)
    expect(resolvePeerName('bob#x1y2z3', peers)).toBe(bob1)
    expect(resolvePeerName('bob#z3', peers)).toBe(bob1)
  })

  it('an ambiguous nick lists the candidates as nick#suffix', () => {
    const err = (() => { try { resolvePeerName('bob', [alice, bob1, bob2]) } catch (e) { return e } })() as AmbiguousPeerError
    expect(err).toBeInstanceOf(AmbiguousPeerError)
    expect(err.candidates.sort()).toEqual(['bob#q9r8s7', 'bob#x1y2z3'])
    expect(err.message).toContain('bob#x1y2z3')
    expect(resolvePeerName('bob#q9r8s7', [alice, bob1, bob2])).toBe(bob2)
  })

  it('the only live one of several with a nick wins (a restarted node keeps its nick)', () => {
    expect(resolvePeerName('bob', [alice, bob1, bobDead])).toBe(bob1)
  })

  it('unknown names, short suffixes and a wrong nick#suffix are refused by name', () => {
    expect(() => resolvePeerName('carol', [alice, bob1])).toThrow(UnknownPeerError)
    expect(() => resolvePeerName('z3', [alice, bob1])).toThrow(UnknownPeerError)
    expect(() => resolvePeerName('alice#x1y2z3', [alice, bob1])).toThrow(UnknownPeerError)
    expect(() => resolvePeerName('  ', [alice, bob1])).toThrow(UnknownPeerError)
  })
})
