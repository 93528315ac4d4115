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

  const localStats = async (): Promise<Record<string, unknown>> => {
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
  }

  // Every node answers `node.stats` over rpc, so `mesh stats --mesh` can gather the mesh's.
  node.rpc.register('node', { stats: async () => await localStats() }, { idempotent: true })

  control.register('stats', async (params) => {
    if (params.mesh !== true) return await localStats()
    const alive = node.membership.table.list().filter(m => m.state === 'alive')
    const answers = await Promise.all(alive.map(async m => {
      try {
        return { stats: (await node.rpc.call('node', 'stats', {}, { peer: m.id, deadlineMs: MESH_STATS_DEADLINE_MS })).result }
      } catch (err: any) {
        return { error: { id: m.id, nick: m.nick, name: String(err?.name ?? 'Error'), message: String(err?.message ?? err) } }
      }
    }))
    return {
      nodes: [await localStats(), ...answers.flatMap(a => a.stats != null ? [a.stats] : [])],
      unreachable: answers.flatMap(a => a.error != null ? [a.error] : [])
    }
  })
}

/** A peer that cannot say its stats within this is listed as unreachable rather than waited for. */
const MESH_STATS_DEADLINE_MS = 3000
