import { displayPeerId } from '../node/peers/peer-names.ts'
import { GONE_LISTED_MS, goneLongAgo, isGoneState } from './gone-members.ts'
import { plural, table } from './output.ts'
import { sanitize } from './shell/format.ts'

/** One member as the control socket's `peers` answers it. */
export interface MemberJson {
  id: string
  nick: string
  state: string
  lastSeenMs: number
  /** How long it has been in its state; absent from nodes older than this field. */
  stateForMs?: number
  workers: { total: number, free: number }
  load: number
  services: string[]
  addrs: string[]
  roles?: string[]
}

export interface PeersJson {
  self: string
  members: MemberJson[]
}

/** The members `mesh peers` lists: all of them with `all`, else not those gone long ago. */
export function listedMembers (members: MemberJson[], all: boolean): MemberJson[] {
  return all ? members : members.filter(m => !goneLongAgo(m.state, m.stateForMs ?? 0))
}

/** `mesh peers` for people: a table, and a line saying what it leaves out. */
export function peersTable (peers: PeersJson, all: boolean): string {
  const listed = listedMembers(peers.members, all)
  // A ROLES column only when some node has one (a gateway): where outside clients connect.
  const withRoles = listed.some(m => (m.roles ?? []).length > 0)
  const rows = [['NICK', 'ID', 'STATE', 'LAST SEEN', 'WORKERS', 'LOAD', ...(withRoles ? ['ROLES'] : [])]]
  for (const m of listed) {
    const roles = withRoles ? [sanitize((m.roles ?? []).join(' ')) || '-'] : []
    // A gone member's last load and free workers are history, not capacity: not shown.
    const gone = isGoneState(m.state)
    rows.push([
      m.id === peers.self ? `${m.nick} (you)` : m.nick,
      displayPeerId(m.id),
      m.state,
      m.id === peers.self ? '-' : `${timeAgo(m.lastSeenMs)} ago`,
      gone ? '-' : `${m.workers.free}/${m.workers.total} free`,
      gone ? '-' : m.load.toFixed(2),
      ...roles
    ])
  }
  const hidden = peers.members.length - listed.length
  const footer = hidden > 0 ? `${plural(hidden, 'member')} gone for more than ${GONE_LISTED_MS / 1000} s not shown: --all lists them\n` : ''
  return table(rows) + footer
}

/** 4.2s, 3m 5s, 2h 10m: a time since, short enough for a table cell. */
function timeAgo (ms: number): string {
  const s = ms / 1000
  if (s < 60) return `${s.toFixed(1)}s`
  if (s < 3600) return `${Math.floor(s / 60)}m ${Math.floor(s % 60)}s`
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`
}
