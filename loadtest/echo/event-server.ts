import { createServer, type Server, type Socket } from 'node:net'
import { emptyCounters } from './counters.ts'
import { serveEcho, sweepIdle } from './echo-connection.ts'
import type { EchoServer, EchoServerInit } from './echo-server.ts'
import { listenError } from './errors.ts'
import { MAX_CONNECTIONS } from './constants.ts'

/** Listens on host:port; resolves once listening, rejects with a one-line reason. */
export async function listen (server: Server, host: string, port: number, reusePort = false): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => { reject(listenError(err, host, port)) }
    server.once('error', onError)
    server.listen({ host, port, reusePort, backlog: 4096 }, () => {
      server.off('error', onError)
      resolve()
    })
  })
  const address = server.address()
  return typeof address === 'object' && address != null ? address.port : port
}

/**
 * An echo listener inside one event loop: what the event model runs in its only process, and
 * what each cluster process and each thread runs. Returns the server and a stop function
 * that closes it and every open connection.
 */
export function createEchoListener () {
  const counters = emptyCounters()
  const active = { open: 0 }
  const sockets = new Set<Socket>()
  const server = createServer({ allowHalfOpen: true, noDelay: true }, socket => {
    sockets.add(socket)
    serveEcho(socket, counters, active, () => { sockets.delete(socket) })
  })
  server.maxConnections = MAX_CONNECTIONS
  server.on('drop', () => { counters.rejected++ })
  const sweeper = sweepIdle(sockets, counters)
  const stop = async (): Promise<void> => {
    clearInterval(sweeper)
    const closed = new Promise<void>(resolve => { server.close(() => { resolve() }) })
    for (const socket of sockets) socket.destroy()
    await closed
  }
  return { server, counters, stop }
}

/** The event model: one process, one event loop, every connection on it. */
export async function startEventServer (init: EchoServerInit): Promise<EchoServer> {
  const listener = createEchoListener()
  const port = await listen(listener.server, init.host, init.port)
  return {
    model: 'event',
    host: init.host,
    port,
    pid: process.pid,
    workers: 1,
    counters: () => ({ ...listener.counters }),
    stop: async () => {
      await listener.stop()
      return { ...listener.counters }
    }
  }
}
