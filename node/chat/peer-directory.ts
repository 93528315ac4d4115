import type { MembershipService } from '../membership/membership-service.ts'
import type { ChatStore } from './chat-store.ts'

export class UnknownPeerError extends Error {
  override name = 'UnknownPeerError'
}

export class AmbiguousPeerError extends Error {
  override name = 'AmbiguousPeerError'
}

/** Characters of the peer id shown after a nick that two peers share. */
const SHORT_ID_LENGTH = 6

/** The end of a peer id people can tell apart at a glance. */
export function shortPeerId (id: string): string {
  return id.slice(-SHORT_ID_LENGTH)
}

/**
 * Who is who: nicks from membership (peers alive or recently gone) and from stored messages
 * (peers met before, even if away now). Resolves what a user types (`bob`, `bob#x1y2z3`,
 * a peer id) and labels senders so two peers with the same nick are shown apart.
 */
export class PeerDirectory {
  private readonly membership: MembershipService
  private readonly store: ChatStore

  constructor (components: { membership: MembershipService, store: ChatStore }) {
    this.membership = components.membership
    this.store = components.store
  }

  /** id -> nick of every peer we know of, membership first (it is the more recent). */
  known (): Map<string, string> {
    const peers = new Map<string, string>()
    for (const { id, nick } of this.store.knownPeers()) peers.set(id, nick)
    for (const m of this.membership.table.list()) peers.set(m.id, m.nick)
    const self = this.membership.selfMember()
    peers.set(self.id, self.nick)
    return peers
  }

  /** `nick`, or `nick#abc123` when another known peer has the same nick. */
  label (id: string, nick: string): string {
    for (const [other, otherNick] of this.known()) {
      if (other !== id && otherNick === nick) return `${nick}#${shortPeerId(id)}`
    }
    return nick
  }

  /** A peer id from a full id, `nick#shortid`, or a nick that only one known peer has. */
  resolve (target: string): { id: string, nick: string } {
    const known = this.known()
    if (known.has(target)) return { id: target, nick: known.get(target) as string }
    const [nick, suffix] = target.split('#')
    const matches = [...known].filter(([id, n]) => n === nick && (suffix == null || id.endsWith(suffix)))
    if (matches.length === 0) throw new UnknownPeerError(`no known peer is called ${target}`)
    if (matches.length > 1) {
      const alive = matches.filter(([id]) => this.membership.table.get(id)?.state === 'alive')
      if (alive.length === 1) return { id: alive[0][0], nick: alive[0][1] }
      throw new AmbiguousPeerError(`${matches.length} peers are called ${nick}: say which, e.g. ${matches.map(([id, n]) => `${n}#${shortPeerId(id)}`).join(' or ')}`)
    }
    return { id: matches[0][0], nick: matches[0][1] }
  }
}
