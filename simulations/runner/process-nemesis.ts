import type { HistoryRecorder } from '../history/recorder.ts'
import type { Grudge } from '../plan/grudge.ts'
import type { Fault } from '../plan/plan.ts'
import { callNode } from './control-call.ts'
import type { TierNemesis } from './driven-node.ts'
import type { InProcessNode } from './in-process-node.ts'
import { NodeFaults } from './node-faults.ts'

/** Faults only a network or a process of its own can have; the process tier refuses them. */
export const PROCESS_TIER_UNSUPPORTED = new Set(['pause', 'resume', 'netem', 'netem-clear'])

export class UnsupportedFaultError extends Error {
  override name = 'UnsupportedFaultError'
}

/** Throws when a plan needs a fault the process tier cannot make. */
export function assertProcessTierPlan (faults: ReadonlyArray<{ f: string }>): void {
  // Named by the fault that opens the window: a resume is part of a pause.
  const opener = (f: string): string => f === 'resume' ? 'pause' : f === 'netem-clear' ? 'netem' : f
  const refused = [...new Set(faults.filter(f => PROCESS_TIER_UNSUPPORTED.has(f.f)).map(f => opener(f.f)))]
  if (refused.length > 0) {
    throw new UnsupportedFaultError(`the process tier cannot apply ${refused.join(' or ')} faults (its nodes share one process and have no network of their own); the netns tier can, as root`)
  }
}

/**
 * The process tier's faults: partitions through each node's blocklist (`test.block` on its
 * control socket: the gater refuses dials and handshakes across the cut and the connections
 * across it close), kill (a stop without a leave), restart (a new node on the same home).
 */
export class ProcessNemesis implements TierNemesis {
  private readonly nodes: InProcessNode[]
  private readonly history: HistoryRecorder
  private partitioned = false
  readonly paused = new Set<number>()
  private readonly nodeFaults: NodeFaults
  /** Connections open across the cut when it was made (each closed by it). */
  private cutConnections = 0
  private refusedBefore = 0

  constructor (nodes: InProcessNode[], history: HistoryRecorder) {
    this.nodes = nodes
    this.history = history
    this.nodeFaults = new NodeFaults(nodes, history)
  }

  async apply (fault: Fault, final = false): Promise<void> {
    const extra = final ? { final } : {}
    if (await this.nodeFaults.apply(fault, extra)) return
    switch (fault.f) {
      case 'partition':
        this.history.nemesis(fault, extra)
        await this.partition(fault.grudge)
        return
      case 'heal': {
        const effect = await this.heal()
        this.history.nemesis(fault, { ...extra, effect })
        return
      }
      default:
        throw new UnsupportedFaultError(`the process tier cannot apply ${fault.f} faults`)
    }
  }

  get broken (): boolean {
    return this.partitioned || this.nodeFaults.down
  }

  async healAll (): Promise<void> {
    if (this.partitioned) await this.apply({ f: 'heal' }, true)
    await this.nodeFaults.bringBack(async (fault, final) => { await this.apply(fault, final) })
  }

  /** Each node blocks the peers its grudge names; the connections across the cut close. */
  private async partition (grudge: Grudge): Promise<void> {
    this.partitioned = true
    this.refusedBefore = this.refusedNow()
    await Promise.all(this.nodes.map(async node => {
      const cut = (grudge[node.opts.index] ?? []).map(i => this.nodes[i].peerId)
      if (cut.length === 0) return
      // A node down now is cut all the same when it comes back: its blocklist outlives it.
      if (node.node == null) { node.blocklist.block(cut); return }
      const across = new Set(cut)
      this.cutConnections += node.node.libp2p.getConnections().filter(c => across.has(c.remotePeer.toString())).length
      await callNode(node.opts.home, 'test.block', { block: cut }, this.controlTimeoutMs())
    }))
  }

  /**
   * Lifts every cut (each node redials the peers it had blocked) and returns what the cut
   * stopped: connections it closed and dials or handshakes refused, the vacuity check's
   * proof that it bit (the netns tier counts dropped packets there).
   */
  private async heal (): Promise<{ droppedPackets: number, closedConnections: number, refusedConnections: number }> {
    const refused = this.refusedNow() - this.refusedBefore
    const closed = this.cutConnections
    await Promise.all(this.nodes.map(async node => {
      const blocked = node.blocklist.list()
      if (blocked.length === 0) return
      if (node.node == null) node.blocklist.unblock(blocked)
      // The connector rejoins the sides (one member thought dead per sweep): redialling every
      // peer the cut blocked would turn each node's partial mesh back into a full one.
      else await callNode(node.opts.home, 'test.block', { unblock: blocked, redial: false }, this.controlTimeoutMs())
    }))
    this.partitioned = false
    this.cutConnections = 0
    return { droppedPackets: closed + refused, closedConnections: closed, refusedConnections: refused }
  }

  /**
   * How long a node may take to apply a cut or a heal: 30 s, or three heartbeats when they
   * are dilated. Every node of the process reconnects (or disconnects) at once, and on a
   * loaded machine that burst kept the one thread from answering for over 10 s, which ended
   * the run without a verdict; the observer's round trips still show the harness check how
   * late the nodes were, so a slow machine gives `unknown`, not a verdict about the mesh.
   */
  private controlTimeoutMs (): number {
    return Math.max(30_000, 3 * (this.nodes[0]?.opts.heartbeatMs ?? 0))
  }

  private refusedNow (): number {
    return this.nodes.reduce((sum, n) => sum + n.blocklist.refused, 0)
  }
}
