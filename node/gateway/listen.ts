import type { Server as HttpServer } from 'node:http'
import type { ListenOptions, Server as NetServer } from 'node:net'

/**
 * Starts `server` listening; rejects with the listen error (a busy port, an address not on
 * this machine) instead of leaving it to the server's 'error' event, which then logs the
 * errors of a running server.
 */
export async function listenOn (server: NetServer | HttpServer, options: ListenOptions, log: (formatter: string, ...args: unknown[]) => void): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options, () => {
      server.off('error', reject)
      resolve()
    })
  })
  server.on('error', err => { log('server error: %s', err.message) })
}
