import { describe, expect, it } from 'vitest'
import { InvalidConfigError, resolveConfig } from '../../node/config.ts'
import { isLocalNetworkAddress } from '../../node/discovery/local-addresses.ts'
import { multiaddr } from '@multiformats/multiaddr'

describe('the transport option (in-process simulations)', () => {
  it('is TCP unless asked, and every address must fit the transport chosen', () => {
    expect(resolveConfig({ home: '/tmp/x', nick: 'a' }).transport).toBe('tcp')
    const memory = resolveConfig({ home: '/tmp/x', nick: 'a', transport: 'memory', bootstrap: ['/memory/n0/p2p/12D3KooWHFrmLWTTDD4NodngtRMEVYgxrsDMp4F9BRXtMCUEhXN3'] })
    expect(memory.listen).toHaveLength(1)
    expect(memory.listen[0]).toMatch(/^\/memory\/[\w-]+$/)
    expect(() => resolveConfig({ home: '/tmp/x', nick: 'a', transport: 'memory', bootstrap: ['/ip4/127.0.0.1/tcp/4001'] })).toThrow(/--bootstrap \/ip4\/127.0.0.1\/tcp\/4001 is not a memory multiaddr such as \/memory\/node-a \(no \/memory\/ part\)/)
    expect(() => resolveConfig({ home: '/tmp/x', nick: 'a', listen: ['/memory/n0'] })).toThrow(InvalidConfigError)
    expect(() => resolveConfig({ home: '/tmp/x', nick: 'a', transport: 'udp' as any })).toThrow(/transport must be tcp or memory/)
  })

  it('keeps a connection to every member unless a target of direct peers is given, from 1 to 256', () => {
    expect(resolveConfig({ home: '/tmp/x', nick: 'a' }).targetPeers).toBeUndefined()
    expect(resolveConfig({ home: '/tmp/x', nick: 'a', targetPeers: 8 }).targetPeers).toBe(8)
    for (const bad of [0, 2.5, 257]) expect(() => resolveConfig({ home: '/tmp/x', nick: 'a', targetPeers: bad })).toThrow(InvalidConfigError)
  })

  it("a member's memory address is dialled like a local one; a public IP address is not", () => {
    expect(isLocalNetworkAddress(multiaddr('/memory/n3'))).toBe(true)
    expect(isLocalNetworkAddress(multiaddr('/ip4/8.8.8.8/tcp/4001'))).toBe(false)
  })
})
