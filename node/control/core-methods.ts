import type { MeshNode } from '../mesh-node.ts'
import type { Member } from '../membership/member.ts'
import type { ControlServer } from './control-server.ts'

/** The member as `mesh peers --json` shows it (the CLI contract's shape). */
export function memberView (member: Member, now: number): Record<string, unknown> {
  return {
    id: member.id,
    nick: member.nick,
    state: member.state,
    lastSeenMs: Math.max(0, now - member.lastSeenAt),
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
export function registerCoreMethods (control: ControlServer, node: MeshNode): void {
  const startedAt = Date.now()

  control.register('id', async () => ({ id: node.peerId, nick: node.config.nick, addrs: node.addrs() }))

  control.register('peers', async () => {
    const now = Date.now()
    const members = [node.membership.selfMember(), ...node.membership.table.list()]
    return { self: node.peerId, members: members.map(m => memberView(m, now)) }
  })

  control.register('stats', async () => {
    const members = node.membership.table.list()
    const byState: Record<string, number> = { alive: 1, suspect: 0, dead: 0, left: 0 }
    for (const m of members) byState[m.state]++
    const self = node.membership.selfMember()
    return {
      id: node.peerId,
      nick: node.config.nick,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      members: byState,
      connections: node.libp2p.getConnections().length,
      workers: self.workers,
      metrics: await node.metrics.snapshot()
    }
  })
}
