import { Worker } from 'node:worker_threads'
import { addCounters, emptyCounters, isCounters } from './counters.ts'
import { pooledServerHandle, type EchoServer, type EchoServerInit } from './echo-server.ts'
import { EchoStartError, PortInUseError } from './errors.ts'
import { probePort } from './probe-port.ts'
import { scriptEntry } from '../../node/script-entry.ts'

const WORKER_SCRIPT = scriptEntry('thread-worker', new URL('./thread-worker.ts', import.meta.url))

/**
 * The threads model: `workers` worker_threads in one process, each with its own event loop
 * accepting on the shared port through SO_REUSEPORT (`reusePort`), so no thread hands
 * connections to another.
 */
export async function startThreadsServer (init: EchoServerInit): Promise<EchoServer> {
  const port = await probePort(init.host, init.port)
  const totals = emptyCounters()
  const threads: Worker[] = []
  const reported = new Set<Worker>()

  const startOne = async (): Promise<void> => {
    const worker = new Worker(WORKER_SCRIPT, { workerData: { host: init.host, port } })
    threads.push(worker)
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (message: { type?: string, counters?: unknown, message?: string, name?: string }) => {
        if (message?.type === 'listening') resolve()
        if (message?.type === 'failed') reject(message.name === 'PortInUseError' ? new PortInUseError(String(message.message)) : new EchoStartError(String(message.message)))
        if (message?.type === 'counters' && isCounters(message.counters) && !reported.has(worker)) {
          reported.add(worker)
          addCounters(totals, message.counters)
        }
      })
      worker.once('error', err => { reject(new EchoStartError(`an echo thread failed: ${err.message}`)) })
      worker.once('exit', code => { reject(new EchoStartError(`an echo thread exited with code ${code} while starting`)) })
    })
  }

  const stopAll = async (): Promise<void> => {
    await Promise.all(threads.map(async worker => {
      const exited = new Promise<void>(resolve => { worker.once('exit', () => { resolve() }) })
      worker.postMessage({ type: 'stop' })
      await exited
    }))
  }

  try {
    await Promise.all(Array.from({ length: init.workers }, startOne))
  } catch (err) {
    await Promise.all(threads.map(async worker => await worker.terminate()))
    throw err
  }
  return pooledServerHandle('threads', init, port, totals, stopAll)
}
