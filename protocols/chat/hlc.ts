/**
 * Hybrid logical clock timestamps: `ts` is wall-clock milliseconds, `lc` a counter that
 * orders events within the same millisecond (or while the wall clock lags behind a peer's).
 * Every node sorts messages by (ts, lc, id), so every node shows the same order.
 */
export interface Hlc {
  ts: number
  lc: number
}

export function compareHlc (a: Hlc, b: Hlc): number {
  return a.ts !== b.ts ? a.ts - b.ts : a.lc - b.lc
}

/** The display order of messages: by HLC, ties by content id. The same on every node. */
export function compareMessages (a: Hlc & { id: string }, b: Hlc & { id: string }): number {
  const byClock = compareHlc(a, b)
  if (byClock !== 0) return byClock
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}
