import { describe, expect, it } from 'vitest'
import { listedMembers, peersTable, type MemberJson } from '../../../cli/peers-table.ts'

const member = (nick: string, state: string, stateForMs: number, extra: Partial<MemberJson> = {}): MemberJson => ({
  id: `12D3KooW${nick.padEnd(44, 'x')}`,
  nick,
  state,
  lastSeenMs: stateForMs + 2000,
  stateForMs,
  workers: { total: 2, free: 1 },
  load: 0.5,
  services: [],
  addrs: [],
  ...extra
})

describe('mesh peers listing', () => {
  const self = member('ann', 'alive', 100_000, { lastSeenMs: 0 })
  const peers = {
    self: self.id,
    members: [self, member('bob', 'alive', 5000), member('cat', 'dead', 30_000), member('dan', 'left', 61_000), member('eve', 'dead', 3_600_000)]
  }

  it('hides members gone for more than a minute, and says how many and how to see them', () => {
    expect(listedMembers(peers.members, false).map(m => m.nick)).toEqual(['ann', 'bob', 'cat'])
    const text = peersTable(peers, false)
    expect(text).not.toMatch(/dan|eve/)
    expect(text).toMatch(/^2 members gone for more than 60 s not shown: --all lists them$/m)
  })

  it('lists every member with all, with no footer', () => {
    expect(listedMembers(peers.members, true)).toHaveLength(5)
    const text = peersTable(peers, true)
    expect(text).toMatch(/eve .* dead +1h 0m ago/)
    expect(text).not.toMatch(/not shown/)
  })

  it('shows no workers and no load for a gone member: those are history', () => {
    const rows = peersTable(peers, false).split('\n')
    expect(rows.find(r => r.startsWith('bob'))).toMatch(/1\/2 free +0\.50/)
    expect(rows.find(r => r.startsWith('cat'))).toMatch(/dead +32\.0s ago +- +-$/)
  })

  it('keeps members of nodes that do not send stateForMs', () => {
    const old = { ...member('old', 'dead', 0), stateForMs: undefined }
    expect(listedMembers([old], false)).toHaveLength(1)
  })
})
