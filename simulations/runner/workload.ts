import type { HistoryRecorder } from '../history/recorder.ts'
import type { JobSpec, Workload } from '../plan/plan.ts'
import { callNode, errorLine, NodeCallTimeoutError, NodeDownError, streamUntil } from './control-call.ts'
import type { DrivenNode } from './driven-node.ts'

export const SIM_ROOM = 'sim'
/** A chat send that takes longer than this is recorded as indeterminate (`info`). */
const CHAT_SEND_TIMEOUT_MS = 5000
/** The runner waits this much past an rpc deadline before calling the call hung. */
const RPC_GIVE_UP_SLACK_MS = 3000
/** A prime count gets this long before it is called lost. */
const JOB_TIMEOUT_MS = 180_000

/**
 * The clients: every node sends chat messages and calls greeter.hello on a random other
 * node, one operation at a time per node and kind (Jepsen's single-threaded processes),
 * and the plan's prime counts start on their coordinators. Every operation goes into the
 * history as an invoke and its completion: ok, fail (it certainly did not happen: the node
 * was down or said no) or info (no answer in time: it may have happened).
 */
export class WorkloadDriver {
  private readonly nodes: DrivenNode[]
  private readonly history: HistoryRecorder
  private readonly workload: Workload
  private running = false
  /** Wakes the client loops out of their waits when the clients stop. */
  private readonly stopping = new AbortController()
  private readonly loops: Array<Promise<void>> = []
  private readonly jobs: Array<Promise<void>> = []
  private readonly timers = new Set<NodeJS.Timeout>()
  private sent = 0
  /** False for a node the nemesis paused: a stopped client cannot make calls (its sends still go out, and end in info). */
  private readonly canCall: (node: DrivenNode) => boolean

  constructor (nodes: DrivenNode[], history: HistoryRecorder, workload: Workload, canCall: (node: DrivenNode) => boolean = () => true) {
    this.nodes = nodes
    this.history = history
    this.workload = workload
    this.canCall = canCall
  }

  /** Starts the chat and rpc loops. */
  start (): void {
    this.running = true
    for (const node of this.nodes) {
      this.loops.push(this.loop(this.workload.chatEveryMs, async () => { await this.chatSend(node) }))
      this.loops.push(this.loop(this.workload.rpcEveryMs, async () => { await this.rpcCall(node) }))
    }
  }

  /** Starts `job` at `atMs` (epoch ms). */
  scheduleJob (job: JobSpec, atMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      this.jobs.push(this.runJob(job))
    }, Math.max(0, atMs - Date.now()))
    this.timers.add(timer)
  }

  /** Stops everything at once without waiting (an interrupted run): no new operation starts. */
  halt (): void {
    this.running = false
    this.stopping.abort()
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
  }

  /**
   * Stops the chat and rpc loops and waits for their last operations, not for their next
   * turns: with a hundred nodes an rpc loop waits five minutes between calls (the mesh makes
   * a few calls a heartbeat in all), and the settle phase waited for those waits to end.
   */
  async stopClients (): Promise<void> {
    this.running = false
    this.stopping.abort()
    await Promise.all(this.loops)
  }

  /** Waits for every started job; jobs not yet started are dropped. */
  async finishJobs (): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    await Promise.all(this.jobs)
  }

  private async loop (everyMs: number, step: () => Promise<void>): Promise<void> {
    // A random first delay spreads the nodes' operations over the interval.
    await sleep(Math.random() * everyMs, this.stopping.signal)
    while (this.running) {
      const started = Date.now()
      await step()
      await sleep(Math.max(0, everyMs - (Date.now() - started)), this.stopping.signal)
    }
  }

  private async chatSend (node: DrivenNode): Promise<void> {
    const text = `${node.name}-${this.sent++}`
    const i = node.opts.index
    const op = this.history.invoke(i, 'chat.send', { text })
    try {
      const m = await callNode(node.opts.home, 'chat.send', { room: SIM_ROOM, text }, CHAT_SEND_TIMEOUT_MS)
      this.history.complete(op, i, 'chat.send', 'ok', { id: m.id, ts: m.ts })
    } catch (err) {
      this.history.complete(op, i, 'chat.send', outcomeOf(err), undefined, errorLine(err))
    }
  }

  private async rpcCall (node: DrivenNode): Promise<void> {
    const i = node.opts.index
    const others = this.nodes.filter(n => n !== node && n.peerId !== '')
    if (others.length === 0 || !this.canCall(node)) return
    const target = others[Math.floor(Math.random() * others.length)]
    const deadlineMs = this.workload.rpcDeadlineMs
    const op = this.history.invoke(i, 'rpc.call', { peer: target.name, deadlineMs, expect: 'World' })
    try {
      const reply = await callNode(node.opts.home, 'rpc.call', { service: 'greeter', method: 'hello', args: 'Hello', peer: target.peerId, deadlineMs }, deadlineMs + RPC_GIVE_UP_SLACK_MS)
      this.history.complete(op, i, 'rpc.call', 'ok', { result: reply.result, attempts: reply.attempts })
    } catch (err) {
      // Only a node that took the call and said nothing in time hung; a node down refused it,
      // and a node killed under the call leaves it indeterminate.
      const hung = err instanceof NodeCallTimeoutError
      this.history.complete(op, i, 'rpc.call', outcomeOf(err), undefined, hung ? 'hung' : errorLine(err))
    }
  }

  private async runJob (job: JobSpec): Promise<void> {
    const node = this.nodes[job.node]
    const op = this.history.invoke(job.node, 'jobs.count', { from: job.from, to: job.to, expected: job.expected })
    try {
      const done = await streamUntil(node.opts.home, 'jobs.start', { from: String(job.from), to: String(job.to) }, JOB_TIMEOUT_MS, e => e?.type === 'done')
      this.history.complete(op, job.node, 'jobs.count', 'ok', done.report)
    } catch (err) {
      this.history.complete(op, job.node, 'jobs.count', outcomeOf(err), undefined, errorLine(err))
    }
  }
}

/** Errors after which the operation may or may not have happened: the node went silent or away mid-request. */
const INDETERMINATE = new Set(['NodeCallTimeoutError', 'ControlClosedError', 'StreamEndedError'])

function outcomeOf (err: unknown): 'fail' | 'info' {
  if (err instanceof NodeDownError) return 'fail'
  const name = String((err as any)?.name ?? 'Error')
  if (INDETERMINATE.has(name)) return 'info'
  // A named error from the node: it answered, so the operation certainly failed; a bare
  // Error is a socket reset mid-request (the node was killed), which proves nothing.
  return name !== 'Error' ? 'fail' : 'info'
}

/** Waits `ms`, or less if `signal` aborts first (then it resolves at once, never rejects). */
async function sleep (ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return
  await new Promise<void>(resolve => {
    const done = (): void => { clearTimeout(timer); signal.removeEventListener('abort', done); resolve() }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}
