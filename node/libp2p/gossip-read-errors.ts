import type { PeerId } from '@libp2p/interface'
import type { MeshLibp2p } from './create-libp2p.ts'

/**
 * When gossipsub cannot read a peer's stream (a message over its inbound limit, a broken
 * length prefix), it drops that peer from its own tables but leaves the connection open: no
 * gossip from or to the peer until the connection happens to close, with nothing to show for
 * it. This closes the connection at once, so the peer's next dial (or ours: the connector
 * redials live members) starts gossip afresh, and counts it.
 *
 * Gossipsub exposes `handlePeerReadStreamError` as the place to observe these errors; it is
 * wrapped on this one instance, the original still runs first.
 */
/** it-length-prefixed's errors for a frame longer than the limit, or a broken length prefix. */
const UNREADABLE_STREAM_ERRORS: ReadonlySet<string> = new Set([
  'InvalidDataLengthError', 'InvalidDataLengthLengthError', 'InvalidMessageLengthError'
])

export function resetPeerOnGossipReadError (libp2p: MeshLibp2p, onReset: (peer: PeerId, err: unknown) => void): void {
  const pubsub = libp2p.services.pubsub as unknown as { handlePeerReadStreamError?: (err: unknown, peer: PeerId) => void }
  const original = pubsub.handlePeerReadStreamError?.bind(pubsub)
  if (original == null) return
  pubsub.handlePeerReadStreamError = (err, peer) => {
    original(err, peer)
    // Only what the peer sent: a stream reset or this node stopping is no reason to cut the
    // connection (and the rpc calls on it).
    if (!UNREADABLE_STREAM_ERRORS.has((err as Error | undefined)?.name ?? '') || libp2p.status !== 'started') return
    onReset(peer, err)
    for (const connection of libp2p.getConnections(peer)) {
      connection.close().catch(closeErr => { connection.abort(closeErr) })
    }
  }
}
