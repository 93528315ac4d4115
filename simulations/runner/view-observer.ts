import type { HistoryRecorder } from '../history/recorder.ts'
import { callNode } from './control-call.ts'
import type { SimNode } from './sim-node.ts'

/**
 * Reads every running node's member table every `everyMs` and records it when it changed:
 * the membership checker's and the timeline's raw material. A paused node does not answer
 * in time and is simply not observed.
 */
export class ViewObserver {
  private readonly nodes: SimNode[]
  private readonly history: HistoryRecorder
  private readonly everyMs: number
  private readonly last = new Map<number, string>()
  private running = false
  private loop: Promise<void> = Promise.resolve()

  constructor (nodes: SimNode[], history: HistoryRecorder, everyMs: number) {
    this.nodes = nodes
    this.history = history
    this.everyMs = everyMs
  }

  start (): void {
    this.running = true
    this.loop = (async () => {
      while (this.running) {
        const started = Date.now()
        await this.observeAll()
        await new Promise(resolve => setTimeout(resolve, Math.max(0, this.everyMs - (Date.now() - started))))
      }
    })()
  }

  async stop (): Promise<void> {
    this.halt()
    await this.loop
  }

  /** Stops polling without waiting for the poll under way. */
  halt (): void {
    this.running = false
  }

  /** Latest recorded view of each node. */
  views (): Map<number, Record<number, string>> {
    return new Map([...this.last].map(([k, v]) => [k, JSON.parse(v)]))
  }

  private async observeAll (): Promise<void> {
    const index = new Map(this.nodes.map(n => [n.peerId, n.opts.index]))
    await Promise.all(this.nodes.filter(n => n.running).map(async node => {
      try {
        const { members } = await callNode(node.opts.home, 'peers', {}, Math.max(1000, this.everyMs * 2))
        const view: Record<number, string> = {}
        for (const m of members) {
          const i = index.get(m.id)
          if (i != null && i !== node.opts.index) view[i] = m.state
        }
        const key = JSON.stringify(view)
        if (this.last.get(node.opts.index) === key) return
        this.last.set(node.opts.index, key)
        this.history.observe(node.opts.index, view)
      } catch {}
    }))
  }
}
