import type { Heartbeat } from '../../protocols/membership/index.ts'

/** A peer id of the right shape for member-table tests. */
export const BOB = '12D3KooWBobBobBobBobBobBobBobBobBobBobBobBobBobBobBob'

/** bob's heartbeat, incarnation 100, seq 1, with `fields` changed. */
export function heartbeat (fields: Partial<Heartbeat> = {}): Heartbeat {
  return {
    type: 'heartbeat', v: 1, id: BOB, nick: 'bob', incarnation: 100, seq: 1,
    workers: { total: 2, free: 2 }, queue: 0, load: 0, services: [], roles: [], version: '0.1.0', addrs: [],
    ...fields
  }
}
