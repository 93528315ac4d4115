import { ago, clockTime, el, setText, shortId } from './dom.js'

/** Live members first, then the gone; a suspicion does not move a row (they come and go in seconds). */
const STATE_ORDER = { alive: 0, suspect: 0, dead: 1, left: 1 }

/** Why a member changed state, in words. */
export const CAUSES = {
  heartbeat: 'heartbeat',
  refuted: 'refuted a suspicion',
  'missed-heartbeats': 'no heartbeat',
  'suspicion-timeout': 'no heartbeat',
  claim: 'reported by a peer',
  unreachable: 'unreachable',
  leave: 'left cleanly'
}

/**
 * The member table. Rows are kept by id and updated in place (only the texts that changed),
 * and reordered only when the order changes: a tick with 50 members costs a few text writes,
 * not a rebuilt table.
 */
export class MembersPanel {
  constructor (root) {
    this.body = root.querySelector('tbody')
    this.counts = root.querySelector('#member-counts')
    this.rows = new Map()
    this.order = ''
  }

  update (members, selfId, now) {
    const seen = new Set()
    for (const m of members) {
      seen.add(m.id)
      let row = this.rows.get(m.id)
      if (row == null) {
        row = this.createRow(m.id)
        this.rows.set(m.id, row)
      }
      this.fill(row, m, selfId, now)
    }
    for (const [id, row] of this.rows) {
      if (!seen.has(id)) { row.tr.remove(); this.rows.delete(id) }
    }
    const sorted = [...members].sort((a, b) => rank(a, selfId) - rank(b, selfId) || a.nick.localeCompare(b.nick) || a.id.localeCompare(b.id))
    const order = sorted.map(m => m.id).join(',')
    if (order !== this.order) {
      this.order = order
      this.body.append(...sorted.map(m => this.rows.get(m.id).tr))
    }
    const n = { alive: 0, suspect: 0, dead: 0, left: 0 }
    for (const m of members) n[m.state] = (n[m.state] ?? 0) + 1
    setText(this.counts, `${n.alive} alive · ${n.suspect} suspect · ${n.dead} dead · ${n.left} left`)
  }

  createRow (id) {
    const cells = {
      nick: el('td'), id: el('td', { cls: 'id', text: shortId(id), title: id }), state: el('td'),
      seen: el('td'), workers: el('td'), load: el('td'), roles: el('td')
    }
    const badge = el('span', { cls: 'state' })
    const why = el('span', { cls: 'muted' })
    cells.state.append(badge, ' ', why)
    const tr = el('tr', { attrs: { 'data-id': id } }, Object.values(cells))
    return { tr, cells, badge, why }
  }

  fill (row, m, selfId, now) {
    const { tr, cells, badge, why } = row
    if (tr.dataset.state !== m.state) tr.dataset.state = m.state
    if (tr.classList.contains('self') !== (m.id === selfId)) tr.classList.toggle('self', m.id === selfId)
    setText(cells.nick, m.id === selfId ? `${m.nick} (you)` : m.nick)
    setText(badge, m.state)
    const badgeClass = `state state-${m.state}`
    if (badge.className !== badgeClass) badge.className = badgeClass
    const gone = m.state === 'dead' || m.state === 'left' || m.state === 'suspect'
    setText(why, gone ? `${CAUSES[m.cause] ?? m.cause ?? ''} at ${clockTime(m.stateSince)}` : '')
    setText(cells.seen, m.id === selfId ? '-' : ago(now - m.lastSeenAt))
    // A dead or left member's last workers and load are history, not capacity (as mesh peers shows it).
    const departed = m.state === 'dead' || m.state === 'left'
    setText(cells.workers, departed ? '-' : `${m.workers.free}/${m.workers.total} free${m.queue > 0 ? ` · ${m.queue} queued` : ''}`)
    setText(cells.load, departed ? '-' : Number(m.load).toFixed(2))
    setText(cells.roles, (m.roles ?? []).join(' '))
  }
}

function rank (m, selfId) {
  return m.id === selfId ? -1 : STATE_ORDER[m.state] ?? 9
}
