/**
 * Just enough SVG to draw the report's three plots by hand. The plotting libraries in
 * node_modules (uPlot, d3-force) draw on a browser canvas or lay out graphs; a report
 * written by a command has no browser, and three static plots need only rectangles, lines
 * and text.
 */
export function esc (text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')
}

export function svgDocument (width: number, height: number, title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<title>${esc(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`,
    ...body,
    '</svg>',
    ''
  ].join('\n')
}

/** A linear scale from [d0, d1] to [r0, r1]. */
export function scale (d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const span = d1 - d0 === 0 ? 1 : d1 - d0
  return v => r0 + (v - d0) / span * (r1 - r0)
}

/** Round tick values for [min, max]: 1, 2 or 5 times a power of ten apart. */
export function ticks (min: number, max: number, count = 8): number[] {
  const span = Math.max(1e-9, max - min)
  const raw = span / count
  const power = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map(m => m * power).find(s => s >= raw) ?? raw
  const out: number[] = []
  for (let v = Math.ceil(min / step) * step; v <= max + 1e-9; v += step) out.push(Math.round(v * 1e6) / 1e6)
  return out
}

export interface Frame { left: number, top: number, right: number, bottom: number }

/** X axis along the frame's bottom with labels (seconds when `asSeconds`). */
export function xAxis (frame: Frame, x: (v: number) => number, min: number, max: number, label: string, asSeconds = true): string[] {
  const out = [`<line x1="${frame.left}" y1="${frame.bottom}" x2="${frame.right}" y2="${frame.bottom}" stroke="#333"/>`]
  for (const v of ticks(min, max)) {
    const px = x(v).toFixed(1)
    out.push(`<line x1="${px}" y1="${frame.bottom}" x2="${px}" y2="${frame.bottom + 4}" stroke="#333"/>`)
    out.push(`<text x="${px}" y="${frame.bottom + 15}" text-anchor="middle">${asSeconds ? (v / 1000).toString() : v.toString()}</text>`)
  }
  out.push(`<text x="${(frame.left + frame.right) / 2}" y="${frame.bottom + 30}" text-anchor="middle">${esc(label)}</text>`)
  return out
}

export function yAxis (frame: Frame, y: (v: number) => number, min: number, max: number, label: string, format: (v: number) => string = String): string[] {
  const out = [`<line x1="${frame.left}" y1="${frame.top}" x2="${frame.left}" y2="${frame.bottom}" stroke="#333"/>`]
  for (const v of ticks(min, max, 5)) {
    const py = y(v).toFixed(1)
    out.push(`<line x1="${frame.left - 4}" y1="${py}" x2="${frame.right}" y2="${py}" stroke="#eee"/>`)
    out.push(`<text x="${frame.left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${esc(format(v))}</text>`)
  }
  out.push(`<text x="14" y="${(frame.top + frame.bottom) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(frame.top + frame.bottom) / 2})">${esc(label)}</text>`)
  return out
}

/** Colours of the fault kinds, the same in every plot. */
export const FAULT_COLOURS: Record<string, string> = {
  partition: '#f4a261',
  kill: '#e76f51',
  pause: '#b392ac',
  netem: '#e9c46a',
  leave: '#a8a8a8'
}

/** A row of coloured boxes with labels, from (x, y). */
export function legend (x: number, y: number, items: Array<[string, string]>): string[] {
  const out: string[] = []
  let at = x
  for (const [colour, label] of items) {
    out.push(`<rect x="${at}" y="${y - 9}" width="12" height="10" fill="${colour}"/>`)
    out.push(`<text x="${at + 16}" y="${y}">${esc(label)}</text>`)
    at += 24 + label.length * 6.2
  }
  return out
}
