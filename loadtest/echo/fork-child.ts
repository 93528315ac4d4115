/**
 * One child of the fork model: it receives one accepted connection from its parent, echoes
 * it, reports its counters and exits, as a forked server's child does. Kept to a few small
 * imports so that a child starts fast.
 */
import type { Socket } from 'node:net'
import { emptyCounters } from './counters.ts'
import { serveEcho, sweepIdle } from './echo-connection.ts'

const counters = emptyCounters()
let socket: Socket | null = null

function finish (): void {
  process.send?.({ type: 'counters', counters }, () => { process.exit(0) })
}

// Ctrl-C reaches the whole process group; the parent decides when children stop.
process.on('SIGINT', () => {})
process.on('message', (message: { type?: string }, handle?: unknown) => {
  if (message?.type === 'socket' && socket == null && handle != null) {
    socket = handle as Socket
    serveEcho(socket, counters, { open: 0 }, finish)
    sweepIdle([socket], counters)
    socket.resume()
  } else if (message?.type === 'stop') {
    if (socket != null) socket.destroy()
    else finish()
  }
})
// The parent is gone: nobody is left to report to.
process.on('disconnect', () => {
  socket?.destroy()
  process.exit(0)
})
process.send?.({ type: 'ready' })
