/**
 * One way to name a peer, everywhere a user types one (`mesh call --peer`, `mesh task
 * --peer`, `mesh dm`, the shell's `/msg`): the full peer id, the end of it (at least
 * MIN_SUFFIX_LENGTH characters, with or without the leading `…` that `mesh peers` prints),
 * a nick, or `nick#suffix` when two peers share a nick.
 */

export class UnknownPeerError extends Error {
  override name = 'UnknownPeerError'
}

export class AmbiguousPeerError extends Error {
  override name = 'AmbiguousPeerError'
  /** Each candidate as the user could type it to pick it. */
  readonly candidates: string[]

  constructor (message: string, candidates: string[]) {
    super(message)
    this.candidates = candidates
  }
}

/** Characters of the peer id shown after a nick (`bob#x1y2z3`) and in tables (`…x1y2z3`). */
export const SHORT_ID_LENGTH = 6
/** A typed suffix shorter than the displayed one would match too much by accident. */
export const MIN_SUFFIX_LENGTH = SHORT_ID_LENGTH

export interface NamedPeer {
  id: string
  nick: string
  /** alive, suspect, dead or left; an unknown state (a peer met in chat history) is fine. */
  state?: string
}

/** The end of a peer id, enough to tell peers apart at a glance. */
export function shortPeerId (id: string): string {
  return id.slice(-SHORT_ID_LENGTH)
}

/** `…x1y2z3` for tables; a short id as it is. */
export function displayPeerId (id: string): string {
  return id.length > SHORT_ID_LENGTH + 2 ? `…${shortPeerId(id)}` : id
}

/** `bob#x1y2z3`: a nick and the end of its id, unambiguous and typeable. */
export function qualifiedName (peer: NamedPeer): string {
  return `${peer.nick}#${shortPeerId(peer.id)}`
}

/**
 * The peer a user meant. Tried in order, the first that matches anything wins: the full
 * id; `nick#suffix`; a nick; an id suffix. Among several matches, the only live one wins
 * (a restarted node comes back with the same nick); otherwise the error lists the
 * candidates as `nick#suffix`.
 */
export function resolvePeerName<P extends NamedPeer> (text: string, peers: readonly P[]): P {
  const name = text.trim()
  if (name === '') throw new UnknownPeerError('no peer named: give a nick, nick#suffix or a peer id')
  const exact = peers.find(p => p.id === name)
  if (exact != null) return exact

  const hash = name.lastIndexOf('#')
  if (hash > 0) {
    const nick = name.slice(0, hash)
    const suffix = name.slice(hash + 1)
    return pick(peers.filter(p => p.nick === nick && suffix !== '' && p.id.endsWith(suffix)), name)
  }
  const byNick = peers.filter(p => p.nick === name)
  if (byNick.length > 0) return pick(byNick, name)
  const bare = name.replace(/^…/, '')
  if (bare.length >= MIN_SUFFIX_LENGTH) return pick(peers.filter(p => p.id.endsWith(bare)), name)
  return pick([], name)
}

function pick<P extends NamedPeer> (matches: P[], name: string): P {
  if (matches.length === 1) return matches[0]
  if (matches.length === 0) throw new UnknownPeerError(`no peer called ${name} (see mesh peers)`)
  const live = matches.filter(p => p.state === 'alive')
  if (live.length === 1) return live[0]
  const candidates = [...new Set(matches.map(qualifiedName))]
  throw new AmbiguousPeerError(`${matches.length} peers match ${name}: say which, e.g. ${candidates.join(' or ')}`, candidates)
}
