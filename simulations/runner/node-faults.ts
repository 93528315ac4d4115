import type { HistoryRecorder } from '../history/recorder.ts'
import type { Fault } from '../plan/plan.ts'

/** What both tiers' nodes can do to themselves. */
export interface FaultableNode {
  readonly running: boolean
  start: () => Promise<void>
  /** Gone without a leave: a crash. */
  kill: () => Promise<void>
  /** A clean leave. */
  leave: () => Promise<void>
}

/**
 * The faults a node does to itself, the same in every tier: kill and leave open a window
 * (recorded as they start), restart and join close it (recorded once the node runs again).
 * Keeps which nodes are still down, so the final heal brings back exactly those.
 */
export class NodeFaults {
  readonly killed = new Set<number>()
  readonly left = new Set<number>()
  private readonly nodes: FaultableNode[]
  private readonly history: HistoryRecorder

  constructor (nodes: FaultableNode[], history: HistoryRecorder) {
    this.nodes = nodes
    this.history = history
  }

  /** Applies `fault` if it is one of these; false for any other kind. */
  async apply (fault: Fault, extra: Record<string, unknown>): Promise<boolean> {
    if (fault.f !== 'kill' && fault.f !== 'leave' && fault.f !== 'restart' && fault.f !== 'join') return false
    const nodes = fault.nodes.map(i => this.nodes[i])
    if (fault.f === 'kill' || fault.f === 'leave') {
      this.history.nemesis(fault, extra)
      await Promise.all(nodes.map(async n => { await (fault.f === 'kill' ? n.kill() : n.leave()) }))
      for (const n of fault.nodes) (fault.f === 'kill' ? this.killed : this.left).add(n)
      return true
    }
    await Promise.all(nodes.map(async n => { if (!n.running) await n.start() }))
    for (const n of fault.nodes) { this.killed.delete(n); this.left.delete(n) }
    this.history.nemesis(fault, extra)
    return true
  }

  get down (): boolean {
    return this.killed.size + this.left.size > 0
  }

  /** Restarts the killed and rejoins the left, through `apply` so the history records it. */
  async bringBack (apply: (fault: Fault, final: boolean) => Promise<void>): Promise<void> {
    if (this.killed.size > 0) await apply({ f: 'restart', nodes: [...this.killed] }, true)
    if (this.left.size > 0) await apply({ f: 'join', nodes: [...this.left] }, true)
  }
}
