import type { Socket } from 'node:net'
import type { EchoCounters } from './counters.ts'
import { IDLE_TIMEOUT_MS } from './constants.ts'

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
  socket.setNoDelay(true)
  socket.setTimeout(IDLE_TIMEOUT_MS)
  socket.on('data', (chunk: Buffer) => {
    counters.bytesIn += chunk.length
    counters.bytesOut += chunk.length
    if (!socket.write(chunk)) socket.pause()
  })
  socket.on('drain', () => { socket.resume() })
  // allowHalfOpen: the client's FIN arrives here; end our side once the echo is written.
  socket.on('end', () => { socket.end() })
  socket.on('timeout', () => {
    counters.idleTimeouts++
    socket.destroy()
  })
  socket.on('error', () => { counters.resets++ })
  socket.on('close', () => {
    active.open--
    onClose?.()
  })
}
