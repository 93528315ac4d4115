import { faultWindows } from '../history/fault-windows.ts'
import { headerOf, type HistoryEvent, type ObserveEvent, type PhaseEvent } from '../history/history.ts'
import { faultShading } from './fault-shading.ts'
import { esc, type Frame, legend, scale, svgDocument, xAxis } from './svg.ts'

const STATE_COLOURS: Record<string, string> = { alive: '#2a9d8f', suspect: '#e9c46a', dead: '#d62828', left: '#8d99ae' }
const UNKNOWN_COLOUR = '#f1f1f1'
const STRIPE = 5
const LANE_GAP = 8

/**
 * timeline.svg: one lane per node; inside it one thin stripe per other node, coloured by the
 * state that other node's member table gave it over time. A fault shows as the stripes of the
 * nodes cut off turning yellow then red, the heal as them turning back to green.
 */
export function timelineSvg (history: readonly HistoryEvent[]): string {
  const { plan } = headerOf(history)
  const n = plan.nodes
  const end = history.reduce((m, e) => Math.max(m, e.t), 1)
  const laneHeight = (n - 1) * STRIPE
  const frame: Frame = { left: 60, top: 50, right: 1060, bottom: 40 + n * (laneHeight + LANE_GAP) }
  const x = scale(0, end, frame.left, frame.right)
  const windows = faultWindows(history)
  const body: string[] = [...faultShading(windows, frame, x)]
  // While a node is killed or gone its last view is stale: its stripes stop until it is back.
  const downFrom = (observer: number, from: number, until: number): number => windows
    .filter(w => (w.kind === 'kill' || w.kind === 'leave') && 'nodes' in w.fault && w.fault.nodes.includes(observer) && w.start >= from && w.start < until)
    .reduce((m, w) => Math.min(m, w.start), until)

  const observations = history.filter((e): e is ObserveEvent => e.type === 'observe')
  const byObserver = new Map<number, ObserveEvent[]>()
  for (const o of observations) byObserver.set(o.node, [...(byObserver.get(o.node) ?? []), o])

  for (let target = 0; target < n; target++) {
    const laneTop = frame.top + target * (laneHeight + LANE_GAP)
    body.push(`<text x="${frame.left - 6}" y="${laneTop + laneHeight / 2}" text-anchor="end" dominant-baseline="middle" font-weight="bold">n${target}</text>`)
    let stripe = 0
    for (let observer = 0; observer < n; observer++) {
      if (observer === target) continue
      const y = laneTop + stripe * STRIPE
      stripe++
      const seen = byObserver.get(observer) ?? []
      for (const [k, o] of seen.entries()) {
        const until = downFrom(observer, o.t, seen[k + 1]?.t ?? end)
        const state = o.view[target]
        const colour = state == null ? UNKNOWN_COLOUR : STATE_COLOURS[state] ?? UNKNOWN_COLOUR
        body.push(`<rect x="${x(o.t).toFixed(1)}" y="${y}" width="${Math.max(0.5, x(until) - x(o.t)).toFixed(1)}" height="${STRIPE - 1}" fill="${colour}"><title>${esc(`n${observer} saw n${target} ${state ?? 'not at all'} from ${Math.round(o.t)} ms`)}</title></rect>`)
      }
    }
  }
  for (const [k, p] of history.filter((e): e is PhaseEvent => e.type === 'phase').entries()) {
    const px = x(p.t).toFixed(1)
    // Phases close together (discovery, warm-up) take turns on two rows.
    const labelY = frame.top - 6 - (k % 2) * 10
    body.push(`<line x1="${px}" y1="${labelY + 2}" x2="${px}" y2="${frame.bottom}" stroke="#999" stroke-dasharray="3,3"/>`)
    body.push(`<text x="${px}" y="${labelY}" font-size="9" fill="#666">${esc(p.phase)}</text>`)
  }
  body.push(...xAxis(frame, x, 0, end, 'time since the run started (s)'))
  body.push(...legend(frame.left, frame.bottom + 50, [
    [STATE_COLOURS.alive, 'alive'], [STATE_COLOURS.suspect, 'suspect'], [STATE_COLOURS.dead, 'dead'], [STATE_COLOURS.left, 'left'], [UNKNOWN_COLOUR, 'not known'],
    ['#f4a261', 'partition'], ['#e76f51', 'kill'], ['#b392ac', 'pause'], ['#e9c46a', 'netem']
  ]))
  body.push(`<text x="${frame.left}" y="${frame.bottom + 68}" fill="#555">Each lane is one node; each stripe in it is another node's view of it.</text>`)
  return svgDocument(frame.right + 20, frame.bottom + 80, `${plan.scenario} seed ${plan.seed}: each member's state as the others saw it`, body)
}
