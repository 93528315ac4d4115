import type { HistoryRecorder } from '../history/recorder.ts'
import type { SimNetwork } from '../netns/sim-network.ts'
import type { Fault } from '../plan/plan.ts'
import { NodeFaults } from './node-faults.ts'
import type { SimNode } from './sim-node.ts'

/**
 * Applies the plan's faults to the netns hosts and records each in the history with what it
 * measured. Keeps track of what is still broken, so the final heal undoes exactly that.
 */
export class Nemesis {
  private readonly network: SimNetwork
  private readonly nodes: SimNode[]
  private readonly history: HistoryRecorder
  private partitioned = false
  readonly paused = new Set<number>()
  private readonly netem = new Set<number>()
  private readonly nodeFaults: NodeFaults

  constructor (network: SimNetwork, nodes: SimNode[], history: HistoryRecorder) {
    this.network = network
    this.nodes = nodes
    this.history = history
    this.nodeFaults = new NodeFaults(nodes, history)
  }

  async apply (fault: Fault, final = false): Promise<void> {
    const nodes = 'nodes' in fault ? fault.nodes.map(i => this.nodes[i]) : []
    const extra = final ? { final } : {}
    if (await this.nodeFaults.apply(fault, extra)) return
    // A fault that opens a window is recorded as it starts (the first rule, the signal); one
    // that closes a window once it is done (rules flushed, node answering again).
    switch (fault.f) {
      case 'partition':
        this.history.nemesis(fault, extra)
        await this.network.partition(fault.grudge)
        this.partitioned = true
        return
      case 'pause':
        this.history.nemesis(fault, extra)
        for (const n of nodes) n.signal('SIGSTOP')
        for (const n of fault.nodes) this.paused.add(n)
        return
      case 'netem':
        this.history.nemesis(fault, { ...extra, effect: { delayApplied: Number(this.network.netemAvailable && fault.delayMs > 0) } })
        await this.network.netem(fault.nodes, fault.delayMs, fault.jitterMs, fault.lossPercent)
        for (const n of fault.nodes) this.netem.add(n)
        return
      case 'heal': {
        const effect = await this.network.heal()
        this.partitioned = false
        this.history.nemesis(fault, { ...extra, effect })
        return
      }
      case 'resume':
        for (const n of nodes) n.signal('SIGCONT')
        for (const n of fault.nodes) this.paused.delete(n)
        break
      case 'netem-clear': {
        const effect = await this.network.netemClear(fault.nodes)
        for (const n of fault.nodes) this.netem.delete(n)
        this.history.nemesis(fault, { ...extra, effect })
        return
      }
    }
    this.history.nemesis(fault, extra)
  }

  /** Whether any fault is still in force. */
  get broken (): boolean {
    return this.partitioned || this.netem.size + this.paused.size > 0 || this.nodeFaults.down
  }

  /** Jepsen's final generator: heal, clear netem, resume, restart and rejoin whatever is still broken. */
  async healAll (): Promise<void> {
    if (this.partitioned) await this.apply({ f: 'heal' }, true)
    if (this.netem.size > 0) await this.apply({ f: 'netem-clear', nodes: [...this.netem] }, true)
    if (this.paused.size > 0) await this.apply({ f: 'resume', nodes: [...this.paused] }, true)
    await this.nodeFaults.bringBack(async (fault, final) => { await this.apply(fault, final) })
  }
}
