import type { Member } from '../membership/member.ts'
import type { MemberView } from '../membership/member-view.ts'
import { systemClock, type Clock } from '../time/clock.ts'
import type { ControlServer } from './control-server.ts'

/** What the core control methods read of the node. */
export interface CoreMethodsNode {
  peerId: string
  nick: string
  /** Announced addresses, each ending in /p2p/<id>. */
  addrs: () => string[]
  membership: MemberView
  /** This node's stats (`mesh stats`), and every live node's (`mesh stats --mesh`). */
  stats: {
    local: () => Promise<unknown>
    mesh: () => Promise<unknown>
  }
  /** The clock the member table keeps its times on, for the members' ages. Default systemClock. */
  clock?: Clock
}

/**
 * The member as `mesh peers --json` shows it. Scripts read these fields, so they change
 * only by adding new ones.
 */
export function memberView (member: Member, now: number): Record<string, unknown> {
  return {
    id: member.id,
    nick: member.nick,
    state: member.state,
    lastSeenMs: Math.max(0, now - member.lastSeenAt),
    stateForMs: Math.max(0, now - member.stateSince),
    workers: member.workers,
    load: member.load,
    services: member.services,
    addrs: member.addrs,
    incarnation: member.incarnation,
    roles: member.roles,
    version: member.version
  }
}

/** `id`, `peers` and `stats`: what every node answers on its control socket. */
export function registerCoreMethods (control: Pick<ControlServer, 'register'>, node: CoreMethodsNode): void {
  const clock = node.clock ?? systemClock

  control.register('id', async () => ({ id: node.peerId, nick: node.nick, addrs: node.addrs() }))

  control.register('peers', async () => {
    const now = clock.now()
    const members = [node.membership.selfMember(), ...node.membership.members()]
    return { self: node.peerId, members: members.map(m => memberView(m, now)) }
  })

  control.register('stats', async (params) => params.mesh === true ? await node.stats.mesh() : await node.stats.local())
}
