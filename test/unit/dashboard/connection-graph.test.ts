import { describe, expect, it } from 'vitest'
import { gatherConnections, MAX_LISTED_CONNECTIONS } from '../../../node/dashboard/connection-graph.ts'
import type { Member } from '../../../node/membership/member.ts'

function member (id: string, state: Member['state'], services: string[]): Member {
  return { id, nick: id, state, services } as unknown as Member
}

const connection = (peer: string): any => ({ status: 'open', remotePeer: { toString: () => peer } })

describe('gatherConnections', () => {
  it('asks each live node that offers view.connections, keeps what is well-formed and bounded, and leaves out who does not answer', async () => {
    const asked: string[] = []
    const answers: Record<string, unknown> = {
      b: { peers: ['a', 'c', 7, 'x'.repeat(200), ...Array.from({ length: 400 }, (_, i) => `p${i}`)] },
      c: { peers: 'not a list' }
    }
    const graph = await gatherConnections({
      membership: {
        selfMember: () => member('a', 'alive', []),
        members: () => [
          member('b', 'alive', ['view.connections']),
          member('c', 'alive', ['view.connections']),
          member('d', 'alive', ['view.connections']),
          member('old', 'alive', ['node.stats']),
          member('gone', 'dead', ['view.connections'])
        ]
      },
      libp2p: { getConnections: () => [connection('b'), connection('b'), connection('c'), { ...connection('z'), status: 'closing' }] },
      rpc: {
        call: async (_service: string, _method: string, _args: unknown, opts: any) => {
          asked.push(opts.peer)
          if (opts.peer === 'd') throw new Error('no answer in time')
          return { result: answers[opts.peer], peer: opts.peer, attempts: 1 } as any
        }
      }
    })
    // Only live nodes that offer the method are asked; an older node is drawn from the others' views.
    expect(asked.sort()).toEqual(['b', 'c', 'd'])
    // This node's own view: each open connection's peer once.
    expect(graph.a).toEqual(['b', 'c'])
    expect(graph.b).toHaveLength(MAX_LISTED_CONNECTIONS)
    expect(graph.b.slice(0, 3)).toEqual(['a', 'c', 'p0'])
    expect(graph.c).toBeUndefined()
    expect(graph.d).toBeUndefined()
  })
})
