import type { HistoryRecorder } from '../history/recorder.ts'
import { callNode } from './control-call.ts'
import type { DrivenNode } from './driven-node.ts'

const OBSERVE_TIMEOUT_MS = 5000

/**
 * Reads every running node's member table every `everyMs` and records it when it changed:
 * the membership checker's and the timeline's raw material. A paused node does not answer
 * in time and is simply not observed.
 */
export class ViewObserver {
  private readonly nodes: DrivenNode[]
  private readonly history: HistoryRecorder
  private readonly everyMs: number
  private readonly last = new Map<number, string>()
  private running = false
  /** Round trip of every answered read, for the harness check. */
  readonly roundTrips: number[] = []
  private loop: Promise<void> = Promise.resolve()

  constructor (nodes: DrivenNode[], history: HistoryRecorder, everyMs: number) {
    this.nodes = nodes
    this.history = history
    this.everyMs = everyMs
  }

  /** One loop per node: a node slow to answer (starved of CPU, paused) does not hold up the others' observations. */
  start (): void {
    this.running = true
    this.loop = Promise.all(this.nodes.map(async node => {
      while (this.running) {
        const started = Date.now()
        if (node.running) await this.observe(node)
        await new Promise(resolve => setTimeout(resolve, Math.max(0, this.everyMs - (Date.now() - started))))
      }
    })).then(() => {})
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

  private async observe (node: DrivenNode): Promise<void> {
    const index = new Map(this.nodes.map(n => [n.peerId, n.opts.index]))
    try {
      // A late answer is still an observation (stamped when it came); only a paused node never answers.
      const asked = Date.now()
      const stops = node.stops
      const wasStopped = node.stopped
      const { members } = await callNode(node.opts.home, 'peers', {}, OBSERVE_TIMEOUT_MS)
      if (!wasStopped && !node.stopped && node.stops === stops) this.roundTrips.push(Date.now() - asked)
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
  }
}
