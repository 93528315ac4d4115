import type { Socket } from 'node:net'
import type { EchoCounters } from './counters.ts'
import { IDLE_TIMEOUT_MS } from './constants.ts'

/** Per-socket mark: did it send anything since the last idle sweep? */
const ACTIVE = Symbol('active')
type Tracked = Socket & { [ACTIVE]?: boolean }

/**
 * Echoes everything `socket` sends, byte for byte, and counts it. Reads pause while the
 * kernel has not taken what was written (backpressure), so a client that sends without
 * reading costs at most one socket buffer. When the client half-closes, what it sent is still
 * echoed, then our side closes too. `active` tracks open connections for the peak.
 */
export function serveEcho (socket: Socket, counters: EchoCounters, active: { open: number }, onClose?: () => void): void {
  counters.connections++
  active.open++
  if (active.open > counters.peakConnections) counters.peakConnections = active.open
  const tracked = socket as Tracked
  tracked[ACTIVE] = true
  socket.setNoDelay(true)
  socket.on('data', (chunk: Buffer) => {
    tracked[ACTIVE] = true
    counters.bytesIn += chunk.length
    counters.bytesOut += chunk.length
    if (!socket.write(chunk)) socket.pause()
  })
  socket.on('drain', () => { socket.resume() })
  // allowHalfOpen: the client's FIN arrives here; end our side once the echo is written.
  socket.on('end', () => { socket.end() })
  socket.on('error', () => { counters.resets++ })
  socket.on('close', () => {
    active.open--
    onClose?.()
  })
}

/**
 * Closes the sockets that sent nothing between two sweeps, IDLE_TIMEOUT_MS / 2 apart: idle
 * for between half and the whole timeout. One flag write per read instead of node:net's
 * setTimeout, which re-arms a timer on every read and write.
 */
export function sweepIdle (sockets: Iterable<Socket>, counters: EchoCounters): NodeJS.Timeout {
  const timer = setInterval(() => {
    for (const socket of sockets) {
      const tracked = socket as Tracked
      if (tracked[ACTIVE] === false) {
        counters.idleTimeouts++
        socket.destroy()
      } else tracked[ACTIVE] = false
    }
  }, IDLE_TIMEOUT_MS / 2)
  timer.unref()
  return timer
}
