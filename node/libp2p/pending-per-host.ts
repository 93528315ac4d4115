import type { ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface'

/**
 * Handshakes in progress that one host may hold at once. A LAN peer completes its handshake
 * in milliseconds and opens one connection; eight leaves room for a host running several
 * nodes that all start together.
 */
export const MAX_PENDING_PER_HOST = 8

/**
 * A connection gater that caps the inbound connections one host may hold before they finish
 * their handshake. libp2p caps pending connections only in total: a handful of connections
 * from one address that never finish (or one host opening many) filled the slots and kept
 * every honest newcomer out until they timed out. With this, one address can take at most
 * its own share; the total is libp2p's `maxIncomingPendingConnections`.
 *
 * Composes with another gater (the tests' partition blocklist), whose answers still count.
 */
export class PendingPerHost {
  private readonly pending = new Map<string, number>()
  private readonly max: number
  private readonly onRefused: () => void

  constructor (init: { max?: number, onRefused?: () => void } = {}) {
    this.max = init.max ?? MAX_PENDING_PER_HOST
    this.onRefused = init.onRefused ?? (() => {})
  }

  /** Handshakes in progress from `host`. */
  pendingFrom (host: string): number {
    return this.pending.get(host) ?? 0
  }

  gater (inner: ConnectionGater = {}): ConnectionGater {
    return {
      ...inner,
      denyInboundConnection: async (maConn: MultiaddrConnection) => {
        if (await inner.denyInboundConnection?.(maConn) === true) return true
        return !this.admit(maConn)
      },
      denyInboundUpgradedConnection: async (peer: PeerId, maConn: MultiaddrConnection) => {
        this.settle(maConn)
        return await inner.denyInboundUpgradedConnection?.(peer, maConn) === true
      }
    }
  }

  /** Connections counted by `admit` and not yet settled: only these give a place back. */
  private readonly admitted = new WeakSet<MultiaddrConnection>()

  private admit (maConn: MultiaddrConnection): boolean {
    const host = hostOf(maConn)
    if (host == null) return true
    const now = this.pendingFrom(host)
    if (now >= this.max) {
      this.onRefused()
      return false
    }
    this.pending.set(host, now + 1)
    this.admitted.add(maConn)
    // Whichever comes first ends the handshake: the upgrade (settled above) or a close.
    maConn.addEventListener('close', () => { this.settle(maConn) }, { once: true })
    return true
  }

  private settle (maConn: MultiaddrConnection): void {
    // Upgraded connections this gater never admitted (an outbound one upgraded as the
    // responder) must not give back a place they never took.
    if (!this.admitted.has(maConn)) return
    this.admitted.delete(maConn)
    const host = hostOf(maConn)
    if (host == null) return
    const left = this.pendingFrom(host) - 1
    if (left > 0) this.pending.set(host, left)
    else this.pending.delete(host)
  }
}

function hostOf (maConn: MultiaddrConnection): string | undefined {
  return maConn.remoteAddr.getComponents().find(c => c.name === 'ip4' || c.name === 'ip6')?.value
}
