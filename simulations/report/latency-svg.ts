import { faultWindows } from '../history/fault-windows.ts'
import { headerOf, operations, type HistoryEvent } from '../history/history.ts'
import { faultShading } from './fault-shading.ts'
import { type Frame, legend, scale, svgDocument, xAxis, yAxis } from './svg.ts'

const CHAT = '#457b9d'
const RPC_OK = '#2a9d8f'
const RPC_FAIL = '#d62828'

/**
 * latency.svg: against the time each operation started, the chat message's stable latency
 * (until it was on every node) and each rpc call's time to answer (red when it failed), on a
 * log scale, with the faults shaded: Jepsen's latency-raw plot.
 */
export function latencySvg (history: readonly HistoryEvent[]): string {
  const { plan } = headerOf(history)
  const reads = operations(history, 'chat.read').filter(r => r.done?.type === 'ok')
  const arrivals = new Map<string, number[]>()
  for (const r of reads) for (const m of r.done?.value?.messages ?? []) arrivals.set(m.id, [...(arrivals.get(m.id) ?? []), m.at])
  const points: Array<{ t: number, ms: number, colour: string }> = []
  for (const s of operations(history, 'chat.send')) {
    const at = arrivals.get(String(s.done?.value?.id))
    if (s.done?.type === 'ok' && at != null && at.length === reads.length) points.push({ t: s.invoke.t, ms: Math.max(1, Math.max(...at) - s.invoke.t), colour: CHAT })
  }
  for (const c of operations(history, 'rpc.call')) {
    if (c.done == null) continue
    points.push({ t: c.invoke.t, ms: Math.max(1, c.done.t - c.invoke.t), colour: c.done.type === 'ok' ? RPC_OK : RPC_FAIL })
  }
  const end = history.reduce((m, e) => Math.max(m, e.t), 1)
  const frame: Frame = { left: 70, top: 40, right: 1060, bottom: 400 }
  const x = scale(0, end, frame.left, frame.right)
  const maxLog = Math.ceil(Math.log10(Math.max(10, ...points.map(p => p.ms))))
  const y = scale(0, maxLog, frame.bottom, frame.top)
  const body: string[] = [...faultShading(faultWindows(history), frame, x)]
  body.push(...yAxis(frame, y, 0, maxLog, 'latency (ms, log scale)', v => Number.isInteger(v) ? String(10 ** v) : ''))
  for (const p of points) body.push(`<circle cx="${x(p.t).toFixed(1)}" cy="${y(Math.log10(p.ms)).toFixed(1)}" r="2" fill="${p.colour}" fill-opacity="0.6"/>`)
  body.push(...xAxis(frame, x, 0, end, 'time the operation started (s)'))
  body.push(...legend(frame.left, frame.bottom + 50, [[CHAT, 'chat: until on every node'], [RPC_OK, 'rpc ok'], [RPC_FAIL, 'rpc failed']]))
  return svgDocument(frame.right + 20, frame.bottom + 60, `${plan.scenario} seed ${plan.seed}: latency`, body)
}
