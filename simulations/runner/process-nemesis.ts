import type { HistoryRecorder } from '../history/recorder.ts'
import type { Grudge } from '../plan/grudge.ts'
import type { Fault } from '../plan/plan.ts'
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

/** Why the nemesis aborted a connection: a partition, not the node's own doing. */
export class CutError extends Error {
  override name = 'CutError'
}

/**
 * The process tier's faults: partitions through each node's blocklist (its connection gater
 * refuses dials and handshakes across the cut, and the connections across it are aborted),
 * kill (a stop without a leave), restart (a new node on the same home).
 *
 * A cut and a heal take effect on every node in one turn of the event loop, as a switch
 * pulled on a real network does. They went through each node's control socket (`test.block`),
 * a hundred calls answered one at a time by the thread the nodes share: on a busy machine
 * the cut took seconds to reach its last node, and meanwhile the side that could no longer
 * hear a member gossiped its suspicion over connections not yet cut to the member's own side,
 * which believed it (false suspicions, counted against the mesh). Heals went the same way.
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
    // Before any await: nothing runs between the call and the cut.
    if (fault.f === 'partition') {
      this.partition(fault.grudge)
      this.history.nemesis(fault, extra)
      return
    }
    if (fault.f === 'heal') {
      const effect = this.heal()
      this.history.nemesis(fault, { ...extra, effect })
      return
    }
    if (await this.nodeFaults.apply(fault, extra)) return
    throw new UnsupportedFaultError(`the process tier cannot apply ${fault.f} faults`)
  }

  get broken (): boolean {
    return this.partitioned || this.nodeFaults.down
  }

  async healAll (): Promise<void> {
    if (this.partitioned) await this.apply({ f: 'heal' }, true)
    await this.nodeFaults.bringBack(async (fault, final) => { await this.apply(fault, final) })
  }

  /**
   * Every node blocks the peers its grudge names, then every connection across the cut is
   * aborted (no goodbye crosses a cut), all before anything else runs. A node down now is
   * cut all the same when it comes back: its blocklist outlives it.
   */
  private partition (grudge: Grudge): void {
    this.partitioned = true
    this.refusedBefore = this.refusedNow()
    for (const node of this.nodes) node.blocklist.block((grudge[node.opts.index] ?? []).map(i => this.nodes[i].peerId))
    for (const node of this.nodes) {
      for (const connection of node.node?.libp2p.getConnections() ?? []) {
        if (!node.blocklist.has(connection.remotePeer)) continue
        this.cutConnections++
        connection.abort(new CutError('cut by the simulation'))
      }
    }
  }

  /**
   * Lifts every cut at once and returns what the cut stopped: connections it closed and
   * dials or handshakes refused, the vacuity check's proof that it bit (the netns tier counts
   * dropped packets there). Nobody redials: the connector rejoins the sides (one member
   * thought dead per sweep), as after a real heal; redialling every peer the cut blocked
   * would turn each node's partial mesh back into a full one.
   */
  private heal (): { droppedPackets: number, closedConnections: number, refusedConnections: number } {
    const refused = this.refusedNow() - this.refusedBefore
    const closed = this.cutConnections
    for (const node of this.nodes) node.blocklist.unblock(node.blocklist.list())
    this.partitioned = false
    this.cutConnections = 0
    return { droppedPackets: closed + refused, closedConnections: closed, refusedConnections: refused }
  }

  private refusedNow (): number {
    return this.nodes.reduce((sum, n) => sum + n.blocklist.refused, 0)
  }
}
