/**
 * One thread of the threads model: its own event loop and its own listening socket on the
 * shared port (SO_REUSEPORT: the kernel spreads new connections over the threads' sockets).
 */
import { parentPort, workerData } from 'node:worker_threads'
import { createEchoListener, listen } from './event-server.ts'

const { host, port } = workerData as { host: string, port: number }
const listener = createEchoListener()

parentPort?.on('message', (message: { type?: string }) => {
  if (message?.type !== 'stop') return
  void listener.stop().then(() => {
    parentPort?.postMessage({ type: 'counters', counters: listener.counters })
    parentPort?.close()
  })
})

try {
  await listen(listener.server, host, port, true)
  parentPort?.postMessage({ type: 'listening' })
} catch (err: any) {
  parentPort?.postMessage({ type: 'failed', message: String(err?.message ?? err), name: err?.name })
  parentPort?.close()
}
