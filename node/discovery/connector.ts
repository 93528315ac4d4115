import type { PeerId, PeerInfo } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { isLocalNetworkAddress } from './local-addresses.ts'
import type { MeshLibp2p } from '../libp2p/create-libp2p.ts'
import { defaultLogger, type Log, type MeshLogger } from '../logging/logger.ts'
import { backoffDelay } from '../time/backoff.ts'
import { systemClock, type Clock, type Timer } from '../time/clock.ts'

/** The slice of libp2p the connector uses: discovery events, connections, dials. */
export type ConnectorLibp2p = Pick<MeshLibp2p, 'peerId' | 'addEventListener' | 'removeEventListener' | 'getConnections' | 'getPeers' | 'dial'>

export interface ConnectorComponents {
  libp2p: ConnectorLibp2p
  /** The sweep interval and the backoff deadlines. Default systemClock. */
  clock?: Clock
  logger?: MeshLogger
}

export interface ConnectorInit {
  bootstrap: Multiaddr[]
  /** Members that have not left, with their state and the addresses their heartbeats announce. */
  members: () => ReadonlyArray<{ id: string, addrs: string[], state: string }>
  /**
   * Peers heard of through gossip but never seen connected, with the addresses they
   * announce: a connection to one makes it a member. Default none.
   */
  candidates?: () => ReadonlyArray<{ id: string, addrs: string[] }>
  /** How often the connector looks for peers it should be connected to and is not. */
  intervalMs: number
  /**
   * Keep about this many direct peers instead of one to every member: the others are
   * reached through gossip. None (the default) dials every live member up to 64, so a crash
   * shows as a closed connection everywhere at once; a hundred nodes in one process (the
   * in-process simulations) cannot carry the 4,950 connections of a full mesh.
   */
  targetPeers?: number
  /** [0, 1) for the backoff jitter and the choice of peers; injected for tests. Default Math.random. */
  random?: () => number
}

/** Backoff for a target that keeps failing: doubles from the interval up to this. */
const MAX_BACKOFF_MS = 30_000
/** A LAN mesh dials every live member directly; above this it relies on gossip relaying. */
const MAX_DIRECT_PEERS = 64
/**
 * Members we think dead are still dialled now and then: after a partition heals, each side
 * thinks the other dead, and without this neither would dial the other again. The gap
 * starts at 5 s and doubles with each failure up to a minute: a short cut heals in seconds,
 * a long one within a minute, and a member that is gone for good (or never existed: a
 * forged heartbeat) costs one dial a minute, not one every 5 s for the hour it is kept.
 */
const DEAD_MEMBER_RETRY_MS = 5_000
const MAX_DEAD_MEMBER_RETRY_MS = 60_000
/**
 * One dial gives up after this long. It stays a real-time timeout (AbortSignal.timeout), not
 * one on the node's clock: it bounds network I/O (a TCP connect and the handshakes), whose
 * length the network sets, and libp2p's own dial timeout, of the same length, runs on real
 * time anyway; the mesh's decisions hang on the backoff, which is on the clock.
 */
export const DIAL_TIMEOUT_MS = 5_000
/**
 * Candidates dialled at once. Anybody can sign heartbeats for ids that do not exist, naming
 * any address; a few dials at a time admit a handful of honest newcomers within
 * milliseconds, while a flood of made-up ones costs the node four sockets, not hundreds.
 */
export const MAX_CANDIDATE_DIALS = 4

/**
 * Keeps this node connected: dials bootstrap addresses until they answer (and again after
 * they restart), peers found by mDNS (libp2p 3 does not dial them by itself), and members
 * learned through gossip that we have no connection to. A fully connected LAN mesh makes a
 * crash visible to every member at once as a closed connection.
 */
export class Connector {
  private readonly libp2p: ConnectorLibp2p
  private readonly clock: Clock
  private readonly init: ConnectorInit
  private readonly random: () => number
  private readonly nextTryAt = new Map<string, number>()
  private readonly failures = new Map<string, number>()
  /** The dials under way, by target: what abandons each (dialReturned), and when it has ended. */
  private readonly dialing = new Map<string, { abandon: AbortController, ended: Promise<void> }>()
  /** Parsed peer ids of the members, by their text (peerIdOf). */
  private readonly peerIds = new Map<string, PeerId>()
  /** The candidates being dialled now, at most MAX_CANDIDATE_DIALS. */
  private readonly candidateDials = new Set<string>()
  private readonly log: Log
  private timer?: Timer
  /** Made by each start, aborted by stop: the dials of the previous run end there. */
  private controller?: AbortController

  constructor (components: ConnectorComponents, init: ConnectorInit) {
    this.libp2p = components.libp2p
    this.clock = components.clock ?? systemClock
    this.log = (components.logger ?? defaultLogger).forComponent('discovery')
    this.init = init
    this.random = init.random ?? Math.random
  }

  start (): void {
    if (this.controller != null) return
    this.controller = new AbortController()
    this.libp2p.addEventListener('peer:discovery', this.onDiscovery)
    this.sweep()
    this.scheduleSweep()
  }

  /**
   * The next sweep, half to one and a half intervals away. Nodes started together (a
   * script, a simulation) would otherwise sweep in step for as long as they run, and after a
   * healed partition every node's dial across the cut would come in the same instant, up to
   * an interval after the heal; spread out, some node dials across within a small part of
   * an interval.
   */
  private scheduleSweep (): void {
    const run = this.controller
    this.timer = this.clock.setTimeout(() => {
      if (this.controller !== run) return
      this.sweep()
      this.scheduleSweep()
    }, this.init.intervalMs * (0.5 + this.random()))
  }

  stop (): void {
    if (this.controller == null) return
    this.timer?.clear()
    this.timer = undefined
    this.controller.abort()
    this.controller = undefined
    this.libp2p.removeEventListener('peer:discovery', this.onDiscovery)
    // A later start dials every target afresh: the failures were of an earlier run.
    this.nextTryAt.clear()
    this.failures.clear()
  }

  /**
   * Dials candidates (never-tried ones first, then the recently heard) while fewer than
   * MAX_CANDIDATE_DIALS are in flight: called on every new candidate, so a newcomer heard
   * through gossip is dialled at once rather than at the next sweep.
   */
  dialCandidates (): void {
    if (this.controller == null || this.candidateDials.size >= MAX_CANDIDATE_DIALS) return
    const now = this.clock.now()
    const due = [...(this.init.candidates?.() ?? [])].reverse()
      .filter(c => !this.dialing.has(c.id) && (this.nextTryAt.get(c.id) ?? 0) <= now)
      .sort((a, b) => (this.failures.get(a.id) ?? 0) - (this.failures.get(b.id) ?? 0))
    for (const candidate of due) {
      if (this.candidateDials.size >= MAX_CANDIDATE_DIALS) return
      let peerId: PeerId
      try { peerId = peerIdFromString(candidate.id) } catch { continue }
      if (peerId.equals(this.libp2p.peerId) || this.libp2p.getConnections(peerId).length > 0) continue
      const addrs = candidateAddrs(candidate.id, candidate.addrs)
      // Nowhere on a local network to reach it: it is admitted if it connects to us.
      if (addrs.length === 0) continue
      const started = this.dial(candidate.id, addrs, 0, () => {
        this.candidateDials.delete(candidate.id)
        this.dialCandidates()
      })
      if (started) this.candidateDials.add(candidate.id)
    }
  }

  /**
   * Dials a member back from the dead (a healed cut, a restart) at once, rather than at the
   * next sweep, one to three heartbeat intervals away: after a heal, each node hears of the
   * other side through the first connection across and then needs its own. A dial to it
   * started while it was unreachable is abandoned first: libp2p would join the new dial to
   * it, and its next SYN retransmission, seconds away after a long cut, would decide when the
   * two meet. A partial mesh (targetPeers) keeps its count through the sweep instead.
   */
  dialReturned (id: string): void {
    if (this.controller == null || this.init.targetPeers != null) return
    const member = this.init.members().find(m => m.id === id)
    if (member == null || member.state !== 'alive') return
    let peerId: PeerId
    try { peerId = this.peerIdOf(id) } catch { return }
    if (peerId.equals(this.libp2p.peerId) || this.libp2p.getConnections(peerId).length > 0) return
    const stale = this.dialing.get(id)
    stale?.abandon.abort()
    // After the abandoned dial has ended: until then libp2p would join the new one to it.
    void (stale?.ended ?? Promise.resolve()).then(() => {
      if (this.libp2p.getConnections(peerId).length > 0) return
      this.failures.delete(id)
      this.nextTryAt.delete(id)
      const addrs = member.addrs.flatMap(a => { try { return [multiaddr(a)] } catch { return [] } }).filter(isLocalNetworkAddress)
      this.dial(id, addrs.length > 0 ? addrs : peerId)
    })
  }

  /**
   * Aborts the connections to a member just declared dead. Through a cut its connection is a
   * zombie: TCP keeps it and retransmits with a backoff that doubles from 200 ms (3.2 s
   * apart after 6 s of cut, 6.4 s after 12 s), so after the heal gossip over it waits for the
   * next retransmission, up to as long again as the cut lasted. Without it, the dials to dead
   * members make a fresh connection, whose first SYN after the heal goes through. A member
   * declared dead in error (a starved process) is dialled again when it refutes.
   */
  dropDead (id: string): void {
    let peerId: PeerId
    try { peerId = this.peerIdOf(id) } catch { return }
    for (const connection of this.libp2p.getConnections(peerId)) connection.abort(new MemberDeadError(`member ${id} declared dead`))
  }

  private readonly onDiscovery = (event: CustomEvent<PeerInfo>): void => {
    const { id, multiaddrs } = event.detail
    this.log('discovered %s', id.toString())
    if (this.libp2p.getConnections(id).length > 0) return
    this.dial(id.toString(), multiaddrs.length > 0 ? multiaddrs : id)
  }

  /** One pass: bootstrap addresses first, then live members we are not connected to. */
  private sweep (): void {
    this.forgetStaleTargets()
    for (const addr of this.init.bootstrap) {
      const idText = addr.getComponents().find(c => c.name === 'p2p')?.value
      if (idText != null && this.libp2p.getConnections(peerIdFromString(idText)).length > 0) continue
      if (idText == null && this.libp2p.getConnections().some(c => c.remoteAddr.equals(addr))) continue
      this.dial(addr.toString(), addr)
    }
    // Before the cap on direct peers: a candidate becomes a member only through a connection.
    this.dialCandidates()
    if (this.init.targetPeers != null) { this.sweepTowardsTarget(this.init.targetPeers); return }
    if (this.libp2p.getPeers().length >= MAX_DIRECT_PEERS) return
    for (const member of this.init.members()) {
      if (member.state === 'left') continue
      let peerId: PeerId
      try { peerId = this.peerIdOf(member.id) } catch { continue }
      if (peerId.equals(this.libp2p.peerId) || this.libp2p.getConnections(peerId).length > 0) continue
      // Addresses a heartbeat names are dialled only on local networks; beyond them, by peer
      // id, which libp2p resolves to the addresses identify proved on an earlier connection.
      const addrs = member.addrs.flatMap(a => { try { return [multiaddr(a)] } catch { return [] } }).filter(isLocalNetworkAddress)
      this.dial(member.id, addrs.length > 0 ? addrs : peerId, member.state === 'alive' ? 0 : this.deadMemberGap(member.id))
    }
  }

  /**
   * The peer id named by `id`, parsed once: every sweep walks every member, and parsing an
   * Ed25519 peer id (base58, then the key) was a tenth of the runner's thread with a hundred
   * nodes in one process. Forgotten with the member (forgetStaleTargets). Throws on a bad id.
   */
  private peerIdOf (id: string): PeerId {
    let peerId = this.peerIds.get(id)
    if (peerId == null) {
      peerId = peerIdFromString(id)
      this.peerIds.set(id, peerId)
    }
    return peerId
  }

  /**
   * Forgets the failures and deadlines of targets that are neither bootstrap addresses,
   * members nor candidates any more: made-up candidates come and go by the thousand, and
   * their backoff must not outlive them.
   */
  private forgetStaleTargets (): void {
    const live = new Set<string>([
      ...this.init.bootstrap.map(a => a.toString()),
      ...this.init.members().map(m => m.id),
      ...(this.init.candidates?.() ?? []).map(c => c.id)
    ])
    for (const key of this.nextTryAt.keys()) if (!live.has(key) && !this.dialing.has(key)) this.nextTryAt.delete(key)
    for (const key of this.failures.keys()) if (!live.has(key) && !this.dialing.has(key)) this.failures.delete(key)
    for (const key of this.peerIds.keys()) if (!live.has(key)) this.peerIds.delete(key)
  }

  /**
   * A partial mesh: live members at random until `target` peers are connected (or being
   * dialled), and one member thought dead or suspect per sweep whatever the count. That
   * one dial is what rejoins the two sides of a healed partition: each side thinks the
   * other dead, and a single connection across lets the heartbeats through again. The
   * connections a cut closes are replaced by others on this node's side, so the count stays
   * near the target through cuts and heals.
   */
  private sweepTowardsTarget (target: number): void {
    const candidates = this.unconnectedMembers()
    let wanted = target - this.libp2p.getPeers().length - this.dialing.size
    for (const member of this.shuffled(candidates.filter(m => m.member.state === 'alive'))) {
      if (wanted <= 0) break
      if (this.dialMember(member, 0)) wanted--
    }
    for (const member of this.shuffled(candidates.filter(m => m.member.state !== 'alive'))) {
      if (this.dialMember(member, this.deadMemberGap(member.member.id))) break
    }
  }

  /** Members that have not left, other than this node, with no connection to them. */
  private unconnectedMembers (): Array<{ member: { id: string, addrs: string[], state: string }, peerId: PeerId }> {
    const out: Array<{ member: { id: string, addrs: string[], state: string }, peerId: PeerId }> = []
    for (const member of this.init.members()) {
      if (member.state === 'left') continue
      let peerId: PeerId
      try { peerId = this.peerIdOf(member.id) } catch { continue }
      if (peerId.equals(this.libp2p.peerId) || this.libp2p.getConnections(peerId).length > 0) continue
      out.push({ member, peerId })
    }
    return out
  }

  /** Dials a member unless a dial is running or its backoff has not passed; true when it did. */
  private dialMember ({ member, peerId }: { member: { id: string, addrs: string[] }, peerId: PeerId }, minGapMs: number): boolean {
    if (this.dialing.has(member.id) || (this.nextTryAt.get(member.id) ?? 0) > this.clock.now()) return false
    const addrs = member.addrs.flatMap(a => { try { return [multiaddr(a)] } catch { return [] } }).filter(isLocalNetworkAddress)
    this.dial(member.id, addrs.length > 0 ? addrs : peerId, minGapMs)
    return true
  }

  private shuffled<T> (items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1))
      ;[items[i], items[j]] = [items[j], items[i]]
    }
    return items
  }

  /** The least wait before a dead member's next dial: doubles with its failed dials. */
  private deadMemberGap (key: string): number {
    const failures = this.failures.get(key) ?? 0
    return Math.min(MAX_DEAD_MEMBER_RETRY_MS, DEAD_MEMBER_RETRY_MS * 2 ** Math.min(failures, 10))
  }

  /** Starts a dial unless one to `key` runs or waits its backoff; `done` runs when a started one ends. */
  private dial (key: string, target: PeerId | Multiaddr | Multiaddr[], minGapMs = 0, done?: () => void): boolean {
    const run = this.controller
    if (run == null) return false
    const now = this.clock.now()
    if (this.dialing.has(key) || (this.nextTryAt.get(key) ?? 0) > now) return false
    const own = new AbortController()
    if (minGapMs > 0) this.nextTryAt.set(key, now + minGapMs)
    const signal = AbortSignal.any([run.signal, own.signal, AbortSignal.timeout(DIAL_TIMEOUT_MS)])
    const ended = this.libp2p.dial(target, { signal })
      .then(() => {
        if (run.signal.aborted) return
        this.failures.delete(key)
        if (minGapMs === 0) this.nextTryAt.delete(key)
      })
      .catch((err: any) => {
        // Cut short by stop, or abandoned for a fresh dial: not the target's failure.
        if (run.signal.aborted || own.signal.aborted) return
        const failures = (this.failures.get(key) ?? 0) + 1
        this.failures.set(key, failures)
        // Equal jitter: never much sooner than the doubled interval, where an early retry
        // only wastes a dial. A dead member waits at least DEAD_MEMBER_RETRY_MS all the same.
        const backoff = backoffDelay(failures, { baseMs: this.init.intervalMs, capMs: MAX_BACKOFF_MS, jitter: 'equal', random: this.random })
        this.nextTryAt.set(key, this.clock.now() + Math.max(minGapMs, backoff))
        this.log('dial %s failed (%d): %s', key, failures, err?.message)
      })
      .finally(() => {
        this.dialing.delete(key)
        done?.()
      })
    this.dialing.set(key, { abandon: own, ended })
    return true
  }
}

/** Why a connection to a member declared dead was aborted. */
export class MemberDeadError extends Error {
  override name = 'MemberDeadError'
}

/**
 * The addresses to dial a candidate at: those on a local network, each ending in the
 * candidate's own peer id, so the handshake fails unless the peer that answers holds its key.
 * An address naming another peer id is dropped: a connection to that peer admits nobody.
 */
export function candidateAddrs (id: string, addrs: readonly string[]): Multiaddr[] {
  return addrs.flatMap(text => {
    let addr: Multiaddr
    try { addr = multiaddr(text) } catch { return [] }
    if (!isLocalNetworkAddress(addr)) return []
    const named = addr.getComponents().find(c => c.name === 'p2p')?.value
    if (named == null) {
      try { return [addr.encapsulate(`/p2p/${id}`)] } catch { return [] }
    }
    return named === id ? [addr] : []
  })
}
