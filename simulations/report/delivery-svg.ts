import { faultWindows } from '../history/fault-windows.ts'
import { headerOf, operations, type HistoryEvent } from '../history/history.ts'
import { type Frame, legend, scale, svgDocument, xAxis, yAxis } from './svg.ts'

const DURING_FAULT = '#d62828'
const OUTSIDE_FAULT = '#457b9d'

/**
 * delivery.svg: for each acknowledged chat message, the fraction of nodes holding it against
 * the time since it was sent (gossipsub-interop's delivery curve). Messages sent during a
 * fault are red: their curves stall at the fraction on the sender's side until the heal.
 */
export function deliverySvg (history: readonly HistoryEvent[]): string {
  const { plan } = headerOf(history)
  const windows = faultWindows(history)
  const reads = operations(history, 'chat.read').filter(r => r.done?.type === 'ok')
  const readers = Math.max(1, reads.length)
  const arrivals = new Map<string, number[]>()
  for (const r of reads) {
    for (const m of r.done?.value?.messages ?? []) arrivals.set(m.id, [...(arrivals.get(m.id) ?? []), m.at])
  }
  const sent = operations(history, 'chat.send').filter(s => s.done?.type === 'ok')
  const curves = sent.map(s => {
    const times = (arrivals.get(String(s.done?.value?.id)) ?? []).map(a => Math.max(0, a - s.invoke.t)).sort((a, b) => a - b)
    return { times, duringFault: windows.some(w => w.start <= s.invoke.t && s.invoke.t <= w.end) }
  })
  const maxT = Math.max(1000, ...curves.flatMap(c => c.times))
  const frame: Frame = { left: 60, top: 40, right: 760, bottom: 400 }
  const x = scale(0, maxT, frame.left, frame.right)
  const y = scale(0, 1, frame.bottom, frame.top)
  const body: string[] = [...yAxis(frame, y, 0, 1, 'fraction of nodes holding the message', v => `${Math.round(v * 100)}%`)]
  // Messages sent outside faults first, so the red ones stay visible on top.
  for (const c of [...curves].sort((a, b) => Number(a.duringFault) - Number(b.duringFault))) {
    if (c.times.length === 0) continue
    let d = `M${x(0).toFixed(1)},${y(0).toFixed(1)}`
    c.times.forEach((t, i) => { d += ` H${x(t).toFixed(1)} V${y((i + 1) / readers).toFixed(1)}` })
    d += ` H${x(maxT).toFixed(1)}`
    body.push(`<path d="${d}" fill="none" stroke="${c.duringFault ? DURING_FAULT : OUTSIDE_FAULT}" stroke-opacity="0.35" stroke-width="1.2"/>`)
  }
  body.push(...xAxis(frame, x, 0, maxT, 'time since sent (s)'))
  const during = curves.filter(c => c.duringFault).length
  body.push(...legend(frame.left, frame.bottom + 50, [[OUTSIDE_FAULT, `sent outside faults (${curves.length - during})`], [DURING_FAULT, `sent during a fault (${during})`]]))
  return svgDocument(frame.right + 20, frame.bottom + 60, `${plan.scenario} seed ${plan.seed}: chat delivery over ${readers} nodes`, body)
}
