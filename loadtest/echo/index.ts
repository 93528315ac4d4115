import { startClusterServer } from './cluster-server.ts'
import type { EchoModel } from './constants.ts'
import type { EchoServer, EchoServerInit } from './echo-server.ts'
import { startEventServer } from './event-server.ts'
import { startForkServer } from './fork-server.ts'
import { startThreadsServer } from './threads-server.ts'

export { ECHO_MODELS, DEFAULT_FORK_CHILDREN, MAX_WORKERS, type EchoModel } from './constants.ts'
export type { EchoCounters } from './counters.ts'
export type { EchoServer, EchoServerInit } from './echo-server.ts'
export { PortInUseError, EchoStartError } from './errors.ts'

/** Starts an echo server of the given model; rejects with PortInUseError on a busy port. */
export async function startEchoServer (model: EchoModel, init: EchoServerInit): Promise<EchoServer> {
  switch (model) {
    case 'event': return await startEventServer(init)
    case 'fork': return await startForkServer(init)
    case 'cluster': return await startClusterServer(init)
    case 'threads': return await startThreadsServer(init)
  }
}
