export class UnknownPeerError extends Error {
  override name = 'UnknownPeerError'
}

export class AmbiguousPeerError extends Error {
  override name = 'AmbiguousPeerError'
}

interface KnownPeer {
  id: string
  nick: string
  state: string
}

/**
 * A peer named by a user: its full id, its nick, or the end of its id (at least 6
 * characters, as `mesh peers` shows it). Live members win over dead ones with the same
 * nick, since a restarted node comes back with the same nick.
 */
export function resolvePeer (text: string, peers: readonly KnownPeer[]): KnownPeer {
  const exact = peers.find(p => p.id === text)
  if (exact != null) return exact
  const byNick = peers.filter(p => p.nick === text)
  const pick = pickLive(byNick, text)
  if (pick != null) return pick
  const bare = text.replace(/^…/, '')
  if (bare.length >= 6) {
    const bySuffix = pickLive(peers.filter(p => p.id.endsWith(bare)), text)
    if (bySuffix != null) return bySuffix
  }
  throw new UnknownPeerError(`no peer called ${text} (see mesh peers)`)
}

function pickLive (matches: KnownPeer[], text: string): KnownPeer | undefined {
  if (matches.length <= 1) return matches[0]
  const live = matches.filter(p => p.state === 'alive')
  if (live.length === 1) return live[0]
  throw new AmbiguousPeerError(`${matches.length} peers match ${text}: use the peer id`)
}
