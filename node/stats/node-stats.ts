import type { WorkerCapacity } from '../../protocols/membership/index.ts'
import type { MemberState } from '../membership/member.ts'
import type { MemberView } from '../membership/member-view.ts'
import type { MeshMetrics } from '../metrics/metrics.ts'
import type { MeshRpc } from '../rpc/mesh-rpc.ts'
import { systemClock, type Clock } from '../time/clock.ts'

/** What `mesh stats` shows of one node. */
export interface NodeStatsReport {
  id: string
  nick: string
  uptimeSeconds: number
  /** Members by state, this node included (as alive). */
  members: Record<MemberState, number>
  connections: number
  workers: WorkerCapacity
  metrics: Record<string, Record<string, number>>
}

/** A live member that could not say its stats in time. */
export interface UnreachableNode {
  id: string
  nick: string
  name: string
  message: string
}

/** What `mesh stats --mesh` shows: this node first, then every live member that answered. */
export interface MeshStatsReport {
  /** Each as that node reported it. */
  nodes: NodeStatsReport[]
  unreachable: UnreachableNode[]
}

export interface NodeStatsComponents {
  membership: MemberView
  /** Open libp2p connections now. */
  connections: () => number
  metrics: Pick<MeshMetrics, 'snapshot'>
  rpc: Pick<MeshRpc, 'register' | 'call'>
  /** Uptime. Default systemClock. */
  clock?: Clock
}

/** A peer that cannot say its stats within this is listed as unreachable rather than waited for. */
const MESH_STATS_DEADLINE_MS = 3000

/**
 * One node's statistics, and the `node.stats` rpc service that every node offers, so
 * `mesh stats --mesh` can gather the mesh's from any of them. Uptime counts from creation.
 */
export class NodeStats {
  private readonly c: NodeStatsComponents
  private readonly clock: Clock
  private readonly startedAt: number

  constructor (components: NodeStatsComponents) {
    this.c = components
    this.clock = components.clock ?? systemClock
    this.startedAt = this.clock.now()
  }

  /** Serves `node.stats`; idempotent, so a call may be retried on a lost connection. */
  register (): void {
    this.c.rpc.register('node', { stats: async () => await this.local() }, { idempotent: true })
  }

  async local (): Promise<NodeStatsReport> {
    const members: Record<MemberState, number> = { alive: 1, suspect: 0, dead: 0, left: 0 }
    for (const m of this.c.membership.members()) members[m.state]++
    const self = this.c.membership.selfMember()
    return {
      id: self.id,
      nick: self.nick,
      uptimeSeconds: Math.round((this.clock.now() - this.startedAt) / 1000),
      members,
      connections: this.c.connections(),
      workers: self.workers,
      metrics: await this.c.metrics.snapshot()
    }
  }

  /** Asks every live member at once; one that fails or is late is listed, not waited for. */
  async mesh (): Promise<MeshStatsReport> {
    const alive = this.c.membership.members().filter(m => m.state === 'alive')
    const answers = await Promise.all(alive.map(async m => {
      try {
        return { stats: (await this.c.rpc.call<NodeStatsReport>('node', 'stats', {}, { peer: m.id, deadlineMs: MESH_STATS_DEADLINE_MS })).result }
      } catch (err: any) {
        return { error: { id: m.id, nick: m.nick, name: String(err?.name ?? 'Error'), message: String(err?.message ?? err) } }
      }
    }))
    return {
      nodes: [await this.local(), ...answers.flatMap(a => a.stats != null ? [a.stats] : [])],
      unreachable: answers.flatMap(a => a.error != null ? [a.error] : [])
    }
  }
}
