import type { ConnectionGater, PeerId } from '@libp2p/interface'

/**
 * Peers this node refuses to talk to, as a libp2p connection gater. Tests cut a mesh in
 * two on loopback with it (`MESH_TEST_HOOKS=1`, the `test.block` control method): the
 * cut behaves like a dropped link (connections close, dials fail, gossip and sync stop)
 * without network namespaces or root.
 */
export class PeerBlocklist {
  private readonly blocked = new Set<string>()
  /** Dials and connections refused so far: the proof that a cut had something to cut. */
  refused = 0

  constructor (initial: Iterable<string> = []) {
    for (const id of initial) this.blocked.add(id)
  }

  has (peer: PeerId | string): boolean {
    return this.blocked.has(peer.toString())
  }

  block (ids: Iterable<string>): void {
    for (const id of ids) this.blocked.add(id)
  }

  unblock (ids: Iterable<string>): void {
    for (const id of ids) this.blocked.delete(id)
  }

  list (): string[] {
    return [...this.blocked].sort()
  }

  gater (): ConnectionGater {
    const deny = (peer: PeerId): boolean => {
      const refuse = this.has(peer)
      if (refuse) this.refused++
      return refuse
    }
    // The upgraded checks too: a connection whose handshake passed just before a cut is
    // checked again as it opens, after the cut has closed every connection it could see.
    return {
      denyDialPeer: deny,
      denyInboundEncryptedConnection: deny,
      denyOutboundEncryptedConnection: deny,
      denyInboundUpgradedConnection: deny,
      denyOutboundUpgradedConnection: deny
    }
  }
}

/** `MESH_TEST_BLOCK_PEERS=id1,id2`: peers blocked from the start. */
export function blockedPeersFromEnv (env: NodeJS.ProcessEnv): string[] {
  return (env.MESH_TEST_BLOCK_PEERS ?? '').split(',').map(s => s.trim()).filter(s => s !== '')
}
