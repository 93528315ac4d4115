import cluster, { type Worker } from 'node:cluster'
import { fileURLToPath } from 'node:url'
import { addCounters, emptyCounters, isCounters } from './counters.ts'
import { pooledServerHandle, type EchoServer, type EchoServerInit } from './echo-server.ts'
import { EchoStartError, PortInUseError } from './errors.ts'
import { probePort } from './probe-port.ts'
import { scriptEntry } from '../../node/script-entry.ts'

const WORKER_SCRIPT = fileURLToPath(scriptEntry('cluster-worker', new URL('./cluster-worker.ts', import.meta.url)))

/**
 * The cluster model: `workers` pre-forked processes share the port through node:cluster
 * (on Linux the primary accepts and deals connections round-robin). The primary only
 * supervises; it serves no connection itself.
 */
export async function startClusterServer (init: EchoServerInit): Promise<EchoServer> {
  if (!cluster.isPrimary) throw new EchoStartError('the cluster model starts from a primary process')
  const port = await probePort(init.host, init.port)
  cluster.setupPrimary({ exec: WORKER_SCRIPT, execArgv: [], args: [], silent: false })
  const totals = emptyCounters()
  const workers: Worker[] = []
  const reported = new Set<Worker>()

  const startOne = async (): Promise<Worker> => {
    const worker = cluster.fork({ MESH_ECHO_HOST: init.host, MESH_ECHO_PORT: String(port) })
    workers.push(worker)
    worker.on('message', (message: { type?: string, counters?: unknown }) => {
      if (message?.type === 'counters' && isCounters(message.counters) && !reported.has(worker)) {
        reported.add(worker)
        addCounters(totals, message.counters)
      }
    })
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (message: { type?: string, message?: string, name?: string }) => {
        if (message?.type === 'listening') resolve()
        if (message?.type === 'failed') reject(message.name === 'PortInUseError' ? new PortInUseError(String(message.message)) : new EchoStartError(String(message.message)))
      })
      worker.once('exit', code => { reject(new EchoStartError(`a cluster process exited with code ${code} while starting`)) })
    })
    return worker
  }

  const stopAll = async (): Promise<void> => {
    await Promise.all(workers.map(async worker => {
      if (worker.isDead()) return
      const exited = new Promise<void>(resolve => { worker.once('exit', () => { resolve() }) })
      if (worker.isConnected()) worker.send({ type: 'stop' })
      else worker.kill()
      await exited
    }))
  }

  try {
    await Promise.all(Array.from({ length: init.workers }, startOne))
  } catch (err) {
    await stopAll()
    throw err
  }
  return pooledServerHandle('cluster', init, port, totals, stopAll)
}
