import type { FaultWindow } from '../history/fault-windows.ts'
import { esc, FAULT_COLOURS, type Frame } from './svg.ts'

/** Shades each fault window across the frame, as Jepsen's perf plots shade nemesis activity. */
export function faultShading (windows: FaultWindow[], frame: Frame, x: (t: number) => number): string[] {
  const out: string[] = []
  for (const w of windows) {
    const x0 = x(w.start)
    const width = Math.max(1, x(w.end) - x0)
    const colour = FAULT_COLOURS[w.kind] ?? '#ccc'
    const label = w.fault.f === 'partition' ? `partition ${w.fault.shape}` : 'nodes' in w.fault ? `${w.kind} ${w.fault.nodes.map(n => `n${n}`).join(' ')}` : w.kind
    out.push(`<rect x="${x0.toFixed(1)}" y="${frame.top}" width="${width.toFixed(1)}" height="${frame.bottom - frame.top}" fill="${colour}" opacity="0.25"><title>${esc(`${label}: ${Math.round(w.start)}–${Math.round(w.end)} ms`)}</title></rect>`)
    // Narrow windows (many cycles) keep their label in the tooltip only.
    if (width > label.length * 5.5) out.push(`<text x="${(x0 + 3).toFixed(1)}" y="${frame.top + 10}" fill="#555" font-size="10">${esc(label)}</text>`)
  }
  return out
}
