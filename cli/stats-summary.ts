import { plural, table } from './output.ts'

/** One node's stats as the control socket answers them (see NodeStatsReport). */
export interface NodeStatsJson {
  id: string
  nick: string
  uptimeSeconds: number
  members: Record<string, number>
  connections: number
  workers: { total: number, free: number }
  metrics: Record<string, Record<string, number>>
}

/** The sum of a counter over all its labels (0 when the node never counted it). */
function total (node: NodeStatsJson, name: string): number {
  return Object.values(node.metrics[name] ?? {}).reduce((sum, v) => sum + v, 0)
}

/** Everything a node refused from its peers or clients as invalid: chat, rpc, membership. */
const DROP_COUNTERS = ['mesh_chat_dropped_total', 'mesh_rpc_dropped_total', 'mesh_membership_invalid_total']

const columns: Array<[string, (n: NodeStatsJson) => number]> = [
  ['CONNECTIONS', n => n.connections],
  ['ALIVE', n => n.members.alive ?? 0],
  ['WORKERS FREE', n => n.workers.free],
  ['WORKERS', n => n.workers.total],
  ['RPC SERVED', n => total(n, 'mesh_rpc_requests_total')],
  ['SHARDS', n => total(n, 'mesh_primes_shards_served_total')],
  ['CHAT IN', n => total(n, 'mesh_chat_messages_total')],
  ['DROPPED', n => DROP_COUNTERS.reduce((sum, name) => sum + total(n, name), 0)]
]

/**
 * `mesh stats --mesh` for people: a row per node with the counters that tell how the mesh
 * is doing, and a total row; the raw counters stay one `--verbose` or `--json` away.
 */
export function meshStatsTable (nodes: NodeStatsJson[], unreachable: Array<{ nick: string, id: string }>): string {
  const rows = [['NODE', 'UP', ...columns.map(([name]) => name)]]
  for (const n of nodes) rows.push([String(n.nick), `${n.uptimeSeconds}s`, ...columns.map(([, value]) => String(value(n)))])
  // Connections and alive members are each node's own view; their sums mean nothing.
  const summed = new Set(['WORKERS FREE', 'WORKERS', 'RPC SERVED', 'SHARDS', 'CHAT IN', 'DROPPED'])
  rows.push([`all ${plural(nodes.length, 'node')}`, '', ...columns.map(([name, value]) => summed.has(name) ? String(nodes.reduce((sum, n) => sum + value(n), 0)) : '')])
  const missing = unreachable.map(u => `${String(u.nick)} did not answer\n`).join('')
  return table(rows) + missing
}
