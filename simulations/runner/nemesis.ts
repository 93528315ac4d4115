import type { HistoryRecorder } from '../history/recorder.ts'
import type { SimNetwork } from '../netns/sim-network.ts'
import type { Fault } from '../plan/plan.ts'
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
  private readonly killed = new Set<number>()
  private readonly left = new Set<number>()
  private readonly netem = new Set<number>()

  constructor (network: SimNetwork, nodes: SimNode[], history: HistoryRecorder) {
    this.network = network
    this.nodes = nodes
    this.history = history
  }

  async apply (fault: Fault, final = false): Promise<void> {
    const nodes = 'nodes' in fault ? fault.nodes.map(i => this.nodes[i]) : []
    let effect: Record<string, number> | undefined
    switch (fault.f) {
      case 'partition':
        // Recorded before it is applied: the cut starts as the first rule goes in.
        this.history.nemesis(fault)
        await this.network.partition(fault.grudge)
        this.partitioned = true
        return
      case 'heal':
        effect = await this.network.heal()
        this.partitioned = false
        break
      case 'kill':
        await Promise.all(nodes.map(async n => { await n.kill() }))
        for (const n of fault.nodes) this.killed.add(n)
        break
      case 'restart':
      case 'join':
        await Promise.all(nodes.map(async n => { if (!n.running) await n.start() }))
        for (const n of fault.nodes) { this.killed.delete(n); this.left.delete(n) }
        break
      case 'leave':
        await Promise.all(nodes.map(async n => { await n.leave() }))
        for (const n of fault.nodes) this.left.add(n)
        break
      case 'pause':
        for (const n of nodes) n.signal('SIGSTOP')
        for (const n of fault.nodes) this.paused.add(n)
        break
      case 'resume':
        for (const n of nodes) n.signal('SIGCONT')
        for (const n of fault.nodes) this.paused.delete(n)
        break
      case 'netem':
        await this.network.netem(fault.nodes, fault.delayMs, fault.jitterMs, fault.lossPercent)
        for (const n of fault.nodes) this.netem.add(n)
        break
      case 'netem-clear':
        effect = await this.network.netemClear(fault.nodes)
        for (const n of fault.nodes) this.netem.delete(n)
        break
    }
    this.history.nemesis(fault, { ...(final ? { final } : {}), ...(effect != null ? { effect } : {}) })
  }

  /** Jepsen's final generator: heal, clear netem, resume, restart and rejoin whatever is still broken. */
  async healAll (): Promise<void> {
    if (this.partitioned) await this.apply({ f: 'heal' }, true)
    if (this.netem.size > 0) await this.apply({ f: 'netem-clear', nodes: [...this.netem] }, true)
    if (this.paused.size > 0) await this.apply({ f: 'resume', nodes: [...this.paused] }, true)
    if (this.killed.size > 0) await this.apply({ f: 'restart', nodes: [...this.killed] }, true)
    if (this.left.size > 0) await this.apply({ f: 'join', nodes: [...this.left] }, true)
  }
}
