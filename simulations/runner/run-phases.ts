import { mkdir } from 'node:fs/promises'
import { availableParallelism, loadavg } from 'node:os'
import { join } from 'node:path'
import { quantiles } from '../checkers/check-result.ts'
import type { HistoryEvent } from '../history/history.ts'
import { HistoryRecorder } from '../history/recorder.ts'
import type { SimPlan } from '../plan/plan.ts'
import { callNode } from './control-call.ts'
import { forEachBounded } from './bounded.ts'
import type { DrivenNode, TierNemesis } from './driven-node.ts'
import { ViewObserver } from './view-observer.ts'
import { SIM_ROOM, WorkloadDriver } from './workload.ts'

const JOIN_TIMEOUT_MS = 30_000
/** Chat histories read at once at the end: a hundred one after another took minutes on a busy machine. */
const READS_AT_ONCE = 8

/** What the runner tells whoever shows its progress. */
export type ProgressListener = (phase: string, detail?: string) => void

export interface RunOptions {
  plan: SimPlan
  /** The report folder: node logs go to <dir>/nodes/. */
  dir: string
  onProgress?: ProgressListener
  /** Aborting stops the run where it is; the cleanup still runs. */
  signal?: AbortSignal
}

export interface RunOutcome {
  history: HistoryEvent[]
  timings: { setupMs: number, discoveryMs: number, teardownMs: number, totalMs: number }
  /** Peak resident memory of each node (VmHWM), MB; one figure for the whole process in the process tier. */
  peakRssMb: number[]
  /** Commands the nemesis and the setup ran, with times: the run as a script. */
  commands: string[]
}

export class RunAbortedError extends Error {
  override name = 'RunAbortedError'
}

/** What the run is given to set a tier up with. */
export interface TierContext {
  plan: SimPlan
  dir: string
  history: HistoryRecorder
  progress: ProgressListener
  /** Appends a line to the run's script (commands.txt). */
  log: (line: string) => void
  checkAbort: () => void
}

/** One way to run the nodes and break their network: namespaces on a bridge, or one process. */
export interface SimTier {
  /** Builds the network and starts every node (each answering on its control socket). */
  setup: (ctx: TierContext) => Promise<{ nodes: DrivenNode[], nemesis: TierNemesis }>
  /** How the nodes find each other, for the progress line and the error when they do not. */
  readonly discoveryHow: string
  readonly discoveryTimeoutMs: number
  peakRssMb: () => Promise<number[]>
  /** Stops every node and removes what setup made; runs whatever happened before. */
  teardown: () => Promise<void>
}

/**
 * A simulation, whatever the tier: setup, discovery, the workload, the plan's faults, a
 * final heal, a wait for the mesh to settle, the final reads, and the teardown however it ends.
 */
export async function runWithTier (opts: RunOptions, tier: SimTier): Promise<RunOutcome> {
  const { plan, dir } = opts
  const progress = opts.onProgress ?? (() => {})
  const started = Date.now()
  const history = new HistoryRecorder(plan, started)
  const commands: string[] = []
  const log = (line: string): void => { commands.push(`${(Date.now() - started).toString().padStart(7)} ${line}`) }
  const checkAbort = (): void => { if (opts.signal?.aborted === true) throw new RunAbortedError('interrupted') }
  const timings = { setupMs: 0, discoveryMs: 0, teardownMs: 0, totalMs: 0 }
  let peakRssMb: number[] = []
  let observer: ViewObserver | undefined
  let workload: WorkloadDriver | undefined

  try {
    await mkdir(join(dir, 'nodes'), { recursive: true })
    history.phase('setup')
    const { nodes, nemesis } = await tier.setup({ plan, dir, history, progress, log, checkAbort })
    history.setPeerIds(nodes.map(n => n.peerId))
    timings.setupMs = Date.now() - started
    checkAbort()

    history.phase('discovery')
    observer = new ViewObserver(nodes, history, Math.max(100, Math.round(plan.heartbeatMs / 4)))
    observer.start()
    const discoveryStart = Date.now()
    progress('discovery', 'waiting for every node to see every other alive')
    const views = observer
    await waitFor(() => allAlive(views, nodes), tier.discoveryTimeoutMs, opts.signal, `the nodes to find each other ${tier.discoveryHow}`)
    timings.discoveryMs = Date.now() - discoveryStart
    // Not a measured operation: a starved machine (many nodes in one process) gets time for it.
    await Promise.all(nodes.map(async n => await callNode(n.opts.home, 'chat.join', { room: SIM_ROOM }, JOIN_TIMEOUT_MS)))

    workload = new WorkloadDriver(nodes, history, plan.workload, n => !nemesis.paused.has(n.opts.index))
    history.phase('warmup')
    progress('warmup', `${plan.warmupMs} ms of workload before the first fault`)
    const faultPhaseAt = Date.now() + plan.warmupMs
    workload.start()
    for (const job of plan.workload.jobs) workload.scheduleJob(job, faultPhaseAt + job.at)
    await sleepUntil(faultPhaseAt, opts.signal)

    history.phase('faults')
    for (const [k, event] of plan.faults.entries()) {
      await sleepUntil(faultPhaseAt + event.at, opts.signal)
      progress('faults', `${k + 1}/${plan.faults.length}: ${describeFault(event)}`)
      await nemesis.apply(event)
    }
    await sleepUntil(faultPhaseAt + plan.faultPhaseMs, opts.signal)
    if (nemesis.broken) progress('heal', 'healing everything still broken')
    await nemesis.healAll()
    history.phase('settle')
    await workload.stopClients()

    const acked = (): Set<string> => new Set(history.events.flatMap(e => e.type === 'ok' && e.f === 'chat.send' ? [String(e.value?.id)] : []))
    progress('settle', `up to ${plan.settleMs} ms for the views to converge and the chat to fill in`)
    await waitFor(async () => allAlive(views, nodes) && await chatComplete(nodes, acked()), plan.settleMs, opts.signal, '').catch(err => {
      if (err instanceof RunAbortedError) throw err
    })
    progress('settle', 'waiting for the prime counts still running')
    await workload.finishJobs()

    history.phase('final-reads')
    progress('final reads', 'chat history of every node')
    await forEachBounded(nodes, READS_AT_ONCE, async node => {
      const op = history.invoke(node.opts.index, 'chat.read', { room: SIM_ROOM })
      try {
        const { messages } = await callNode(node.opts.home, 'chat.history', { room: SIM_ROOM, limit: 100_000, received: true }, 30_000)
        history.complete(op, node.opts.index, 'chat.read', 'ok', {
          messages: messages.map((m: any) => ({ id: m.id, text: m.text, at: Number(m.receivedAt) - history.epochMs }))
        })
      } catch (err: any) {
        history.complete(op, node.opts.index, 'chat.read', 'fail', undefined, `${String(err?.name)}: ${String(err?.message)}`)
      }
    })
    await observer.stop()
    history.harness({ controlRoundTripMs: quantiles(observer.roundTrips), loadAverage: loadavg().map(l => Math.round(l * 100) / 100), cores: availableParallelism() })
    peakRssMb = await tier.peakRssMb()
  } finally {
    // Whatever ended the run (the end, an error, an interrupt): nothing may keep running.
    workload?.halt()
    observer?.halt()
    progress('teardown', 'stopping nodes, removing what the run made')
    const teardownStart = Date.now()
    await tier.teardown()
    timings.teardownMs = Date.now() - teardownStart
  }
  history.phase('done')
  timings.totalMs = Date.now() - started
  return { history: history.events, timings, peakRssMb, commands }
}

function allAlive (observer: ViewObserver, nodes: DrivenNode[]): boolean {
  const views = observer.views()
  return nodes.every(a => nodes.every(b => a === b || views.get(a.opts.index)?.[b.opts.index] === 'alive'))
}

/** Every running node holds every acknowledged message (a few nodes read at a time; the first short one ends it). */
async function chatComplete (nodes: DrivenNode[], acked: Set<string>): Promise<boolean> {
  let complete = true
  await forEachBounded(nodes, READS_AT_ONCE, async node => {
    if (!complete) return
    const { messages } = await callNode(node.opts.home, 'chat.history', { room: SIM_ROOM, limit: 100_000 }, 10_000)
    const ids = new Set(messages.map((m: any) => m.id))
    for (const id of acked) if (!ids.has(id)) { complete = false; return }
  })
  return complete
}

async function waitFor (check: () => boolean | Promise<boolean>, timeoutMs: number, signal: AbortSignal | undefined, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (true) {
    if (signal?.aborted === true) throw new RunAbortedError('interrupted')
    if (await Promise.resolve(check()).catch(() => false)) return
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 250))
  }
}

async function sleepUntil (atMs: number, signal?: AbortSignal): Promise<void> {
  while (Date.now() < atMs) {
    if (signal?.aborted === true) throw new RunAbortedError('interrupted')
    await new Promise(resolve => setTimeout(resolve, Math.min(200, atMs - Date.now())))
  }
  if (signal?.aborted === true) throw new RunAbortedError('interrupted')
}

export function describeFault (f: { f: string, [k: string]: unknown }): string {
  if (f.f === 'partition') return `partition (${String(f.shape)})`
  if (Array.isArray(f.nodes)) return `${f.f} ${f.nodes.map(n => `n${String(n)}`).join(' ')}`
  return f.f
}
