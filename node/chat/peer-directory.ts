import { qualifiedName, resolvePeerName, type NamedPeer } from '../peers/peer-names.ts'
import type { ChatStore } from './chat-store.ts'
import type { ChatMembers } from './dependencies.ts'

export interface PeerDirectoryComponents {
  members: ChatMembers
  store: ChatStore
}

/**
 * Who is who: nicks from membership (peers alive or recently gone) and from stored messages
 * (peers met before, even if away now). Resolves what a user types, the way every command
 * that names a peer does, and labels senders so two peers with the same nick are shown apart.
 */
export class PeerDirectory {
  private readonly members: ChatMembers
  private readonly store: ChatStore
  /**
   * id -> nick of every author stored, read from the store once and then kept current by
   * `remember`: labelling a message (each one sent, tailed or shown in the shell) then costs
   * no database query.
   */
  private stored?: Map<string, string>
  /** This node's id and nick: fixed while it runs, and its full member entry is costly to build (addresses). */
  private self?: { id: string, nick: string }

  constructor (components: PeerDirectoryComponents) {
    this.members = components.members
    this.store = components.store
  }

  /** A message of `id` calling itself `nick` was stored: the store's peer table has it now. */
  remember (id: string, nick: string): void {
    this.stored?.set(id, nick)
  }

  /** id -> nick of every peer we know of, membership first (it is the more recent). */
  known (): Map<string, string> {
    return new Map([...this.peers()].map(([id, p]) => [id, p.nick]))
  }

  /** `nick`, or `nick#abc123` when another known peer has the same nick. */
  label (id: string, nick: string): string {
    return this.labeller()(id, nick)
  }

  /**
   * `label` for many messages at once (a history page): the known peers are read once, not
   * once per message.
   */
  labeller (): (id: string, nick: string) => string {
    const idsByNick = new Map<string, Set<string>>()
    for (const [id, nick] of this.nicks()) {
      const ids = idsByNick.get(nick) ?? new Set<string>()
      ids.add(id)
      idsByNick.set(nick, ids)
    }
    return (id, nick) => {
      const ids = idsByNick.get(nick)
      const shared = ids != null && (ids.size > 1 || !ids.has(id))
      return shared ? qualifiedName({ id, nick }) : nick
    }
  }

  /**
   * The peer a user named: its full id, the end of its id, its nick, or `nick#suffix`.
   * Throws UnknownPeerError, or AmbiguousPeerError listing the candidates.
   */
  resolve (target: string): { id: string, nick: string } {
    const { id, nick } = resolvePeerName(target, [...this.peers().values()])
    return { id, nick }
  }

  /** id -> nick of every known peer, as `peers` but without the member states. */
  private nicks (): Map<string, string> {
    const nicks = new Map(this.storedNicks())
    for (const { id, nick } of this.members.members()) nicks.set(id, nick)
    this.self ??= { id: this.members.selfMember().id, nick: this.members.selfMember().nick }
    nicks.set(this.self.id, this.self.nick)
    return nicks
  }

  private storedNicks (): Map<string, string> {
    this.stored ??= new Map(this.store.knownPeers().map(({ id, nick }) => [id, nick]))
    return this.stored
  }

  /** Every known peer by id: stored nicks first, then membership's view over them. */
  private peers (): Map<string, NamedPeer> {
    const peers = new Map<string, NamedPeer>()
    for (const [id, nick] of this.storedNicks()) peers.set(id, { id, nick })
    for (const { id, nick, state } of this.members.members()) peers.set(id, { id, nick, state })
    const self = this.members.selfMember()
    peers.set(self.id, { id: self.id, nick: self.nick, state: self.state })
    return peers
  }
}
