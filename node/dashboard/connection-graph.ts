import type { Libp2p } from '@libp2p/interface'
import type { MemberView } from '../membership/member-view.ts'
import type { MeshRpc } from '../rpc/mesh-rpc.ts'

/** A node names at most this many of its connections: a LAN mesh is tens of nodes; the answer stays small. */
export const MAX_LISTED_CONNECTIONS = 256
/** A peer that does not say its connections within this is drawn from the others' views only. */
const ASK_DEADLINE_MS = 2000

/** The peers this node has an open connection to, each once, at most MAX_LISTED_CONNECTIONS. */
export function connectedPeers (libp2p: Pick<Libp2p, 'getConnections'>): string[] {
  const peers = new Set<string>()
  for (const c of libp2p.getConnections()) {
    if (c.status !== 'open') continue
    peers.add(c.remotePeer.toString())
    if (peers.size >= MAX_LISTED_CONNECTIONS) break
  }
  return [...peers]
}

/**
 * `view.connections`: every node says whom it is connected to, so a dashboard can draw the
 * mesh as each node sees it, not only from where it stands. Asked over rpc by a dashboard
 * with a viewer, instead of carried in every heartbeat: the mesh pays nothing while nobody
 * looks, and the heartbeat's size and format stay as they are. Idempotent: a read.
 */
export function registerConnectionsService (rpc: Pick<MeshRpc, 'register'>, libp2p: Pick<Libp2p, 'getConnections'>): void {
  rpc.register('view', { connections: async () => ({ peers: connectedPeers(libp2p) }) }, { idempotent: true })
}

export interface ConnectionGraphComponents {
  rpc: Pick<MeshRpc, 'call'>
  membership: Pick<MemberView, 'selfMember' | 'members'>
  libp2p: Pick<Libp2p, 'getConnections'>
}

/**
 * The mesh's connections from each live node's view: this node's from libp2p, the others'
 * asked over rpc at once (a peer that does not offer `view.connections`, an older node, or
 * that does not answer in time is left out, and shows only the edges others see to it).
 */
export async function gatherConnections (c: ConnectionGraphComponents, signal?: AbortSignal): Promise<Record<string, string[]>> {
  const self = c.membership.selfMember().id
  const graph: Record<string, string[]> = { [self]: connectedPeers(c.libp2p) }
  const alive = c.membership.members().filter(m => m.state === 'alive' && m.services.includes('view.connections'))
  await Promise.all(alive.map(async m => {
    try {
      const { result } = await c.rpc.call<{ peers: unknown }>('view', 'connections', {}, { peer: m.id, deadlineMs: ASK_DEADLINE_MS, maxAttempts: 1, signal })
      if (Array.isArray(result.peers)) graph[m.id] = result.peers.filter((p): p is string => typeof p === 'string' && p.length <= 128).slice(0, MAX_LISTED_CONNECTIONS)
    } catch {
      // Not answering is not an error here: the node is drawn from the others' views.
    }
  }))
  return graph
}
