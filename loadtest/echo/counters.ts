/** What an echo server counted; each process or thread keeps its own and the parent adds them. */
export interface EchoCounters {
  /** Connections accepted and served. */
  connections: number
  /** Most connections open at once (for several processes: the sum of each one's peak). */
  peakConnections: number
  bytesIn: number
  bytesOut: number
  /** Connections that ended by a reset or another socket error. */
  resets: number
  /** Connections closed for sending nothing for IDLE_TIMEOUT_MS. */
  idleTimeouts: number
  /** Connections closed at once: over the connection cap, or no room left to wait for a child. */
  rejected: number
}

export function emptyCounters (): EchoCounters {
  return { connections: 0, peakConnections: 0, bytesIn: 0, bytesOut: 0, resets: 0, idleTimeouts: 0, rejected: 0 }
}

export function addCounters (into: EchoCounters, from: EchoCounters): void {
  into.connections += from.connections
  into.peakConnections += from.peakConnections
  into.bytesIn += from.bytesIn
  into.bytesOut += from.bytesOut
  into.resets += from.resets
  into.idleTimeouts += from.idleTimeouts
  into.rejected += from.rejected
}

/** A counters object from another process or thread, checked field by field. */
export function isCounters (value: unknown): value is EchoCounters {
  if (value == null || typeof value !== 'object') return false
  const fields = emptyCounters()
  return Object.keys(fields).every(key => Number.isFinite((value as Record<string, unknown>)[key]))
}
