import type { PeerId, PeerInfo } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import createDebug from 'debug'
import type { MeshLibp2p } from '../libp2p/create-libp2p.ts'

export interface ConnectorInit {
  bootstrap: Multiaddr[]
  /** Members that have not left, with their state and the addresses their heartbeats announce. */
  members: () => Array<{ id: string, addrs: string[], state: string }>
  /** How often the connector looks for peers it should be connected to and is not. */
  intervalMs: number
  random?: () => number
}

/** Backoff for a target that keeps failing: doubles from the interval up to this. */
const MAX_BACKOFF_MS = 30_000
/** A LAN mesh dials every live member directly; above this it relies on gossip relaying. */
const MAX_DIRECT_PEERS = 64
/**
 * Members we think dead are still dialled now and then: after a partition heals, each side
 * thinks the other dead, and without this neither would dial the other again.
 */
const DEAD_MEMBER_RETRY_MS = 5_000

/**
 * Keeps this node connected: dials bootstrap addresses until they answer (and again after
 * they restart), peers found by mDNS (libp2p 3 does not dial them by itself), and members
 * learned through gossip that we have no connection to. A fully connected LAN mesh makes a
 * crash visible to every member at once as a closed connection.
 */
export class Connector {
  private readonly libp2p: MeshLibp2p
  private readonly init: ConnectorInit
  private readonly random: () => number
  private readonly nextTryAt = new Map<string, number>()
  private readonly failures = new Map<string, number>()
  private readonly dialing = new Set<string>()
  private timer?: NodeJS.Timeout
  private readonly controller = new AbortController()
  private readonly log = createDebug('mesh:discovery')

  constructor (components: { libp2p: MeshLibp2p }, init: ConnectorInit) {
    this.libp2p = components.libp2p
    this.init = init
    this.random = init.random ?? Math.random
  }

  start (): void {
    this.libp2p.addEventListener('peer:discovery', this.onDiscovery)
    this.sweep()
    this.timer = setInterval(() => { this.sweep() }, this.init.intervalMs)
  }

  stop (): void {
    clearInterval(this.timer)
    this.controller.abort()
    this.libp2p.removeEventListener('peer:discovery', this.onDiscovery)
  }

  private readonly onDiscovery = (event: CustomEvent<PeerInfo>): void => {
    const { id, multiaddrs } = event.detail
    this.log('discovered %s', id.toString())
    if (this.libp2p.getConnections(id).length > 0) return
    this.dial(id.toString(), multiaddrs.length > 0 ? multiaddrs : id)
  }

  /** One pass: bootstrap addresses first, then live members we are not connected to. */
  private sweep (): void {
    for (const addr of this.init.bootstrap) {
      const idText = addr.getComponents().find(c => c.name === 'p2p')?.value
      if (idText != null && this.libp2p.getConnections(peerIdFromString(idText)).length > 0) continue
      if (idText == null && this.libp2p.getConnections().some(c => c.remoteAddr.equals(addr))) continue
      this.dial(addr.toString(), addr)
    }
    if (this.libp2p.getPeers().length >= MAX_DIRECT_PEERS) return
    for (const member of this.init.members()) {
      if (member.state === 'left') continue
      let peerId: PeerId
      try { peerId = peerIdFromString(member.id) } catch { continue }
      if (peerId.equals(this.libp2p.peerId) || this.libp2p.getConnections(peerId).length > 0) continue
      const addrs = member.addrs.flatMap(a => { try { return [multiaddr(a)] } catch { return [] } })
      this.dial(member.id, addrs.length > 0 ? addrs : peerId, member.state === 'alive' ? 0 : DEAD_MEMBER_RETRY_MS)
    }
  }

  private dial (key: string, target: PeerId | Multiaddr | Multiaddr[], minGapMs = 0): void {
    const now = Date.now()
    if (this.dialing.has(key) || (this.nextTryAt.get(key) ?? 0) > now) return
    this.dialing.add(key)
    if (minGapMs > 0) this.nextTryAt.set(key, now + minGapMs)
    const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(5000)])
    this.libp2p.dial(target, { signal })
      .then(() => {
        this.failures.delete(key)
        if (minGapMs === 0) this.nextTryAt.delete(key)
      })
      .catch((err: any) => {
        const failures = (this.failures.get(key) ?? 0) + 1
        this.failures.set(key, failures)
        const backoff = Math.max(minGapMs, Math.min(MAX_BACKOFF_MS, this.init.intervalMs * 2 ** (failures - 1)))
        this.nextTryAt.set(key, Date.now() + backoff * (0.5 + this.random()))
        this.log('dial %s failed (%d): %s', key, failures, err?.message)
      })
      .finally(() => this.dialing.delete(key))
  }
}
