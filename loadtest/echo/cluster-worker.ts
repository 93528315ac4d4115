/**
 * One process of the cluster model. node:cluster shares the listening socket among the
 * processes (the primary accepts and hands connections round-robin); this file echoes them and
 * reports its counters when the primary says stop.
 */
import { createEchoListener, listen } from './event-server.ts'

const host = process.env.MESH_ECHO_HOST ?? '127.0.0.1'
const port = Number(process.env.MESH_ECHO_PORT ?? '0')
const listener = createEchoListener()

// Ctrl-C reaches the whole process group; the primary decides when workers stop.
process.on('SIGINT', () => {})
process.on('SIGTERM', () => {})
process.on('message', (message: { type?: string }) => {
  if (message?.type !== 'stop') return
  void listener.stop().then(() => {
    process.send?.({ type: 'counters', counters: listener.counters }, () => { process.exit(0) })
  })
})
process.on('disconnect', () => { process.exit(0) })

try {
  await listen(listener.server, host, port)
  process.send?.({ type: 'listening' })
} catch (err: any) {
  process.send?.({ type: 'failed', message: String(err?.message ?? err), name: err?.name }, () => { process.exit(1) })
}
