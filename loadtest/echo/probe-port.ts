import { createServer } from 'node:net'
import { listen } from './event-server.ts'

/**
 * Checks that host:port is free by listening on it once (without SO_REUSEPORT, so even a
 * server that shares its port is seen), and returns the port (a free one for port 0). The
 * models whose listening sockets are opened elsewhere (cluster processes, threads) check here
 * first, so a busy port is one clear error before anything starts.
 */
export async function probePort (host: string, port: number): Promise<number> {
  const server = createServer()
  const chosen = await listen(server, host, port)
  await new Promise<void>(resolve => { server.close(() => { resolve() }) })
  return chosen
}
