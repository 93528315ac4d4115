import { createServer, type Server, type Socket } from 'node:net'

/**
 * Echo servers whose behaviour is known exactly, to check the load generator's figures
 * against: each answers (or fails to) in one documented way.
 */
export interface KnownServer { port: number, close: () => Promise<void> }

async function serve (onSocket: (socket: Socket) => void): Promise<KnownServer> {
  const sockets = new Set<Socket>()
  const server: Server = createServer({ noDelay: true }, socket => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    onSocket(socket)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>(resolve => server.close(() => { resolve() }))
    }
  }
}

/** Answers every message `delayMs` after it arrives. Messages are `size` bytes. */
export async function delayingServer (delayMs: number, size: number): Promise<KnownServer> {
  return await serve(socket => {
    let buffered = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk])
      while (buffered.length >= size) {
        const message = buffered.subarray(0, size)
        buffered = buffered.subarray(size)
        setTimeout(() => { socket.write(message) }, delayMs)
      }
    })
  })
}

/** Echoes `answered` messages of `size` bytes on each connection, then resets it (RST). */
export async function resettingServer (answered: number, size: number): Promise<KnownServer> {
  return await serve(socket => {
    let received = 0
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length
      if (received > answered * size) socket.resetAndDestroy()
      else socket.write(chunk)
    })
  })
}

/** Reads everything and never answers. */
export async function silentServer (): Promise<KnownServer> {
  return await serve(socket => { socket.resume() })
}

/** Answers every message with its bytes changed. */
export async function corruptingServer (): Promise<KnownServer> {
  return await serve(socket => {
    socket.on('data', (chunk: Buffer) => {
      const copy = Buffer.from(chunk)
      copy[0] ^= 0xff
      socket.write(copy)
    })
  })
}

/** A port with nothing listening: bound once to learn a free port, then closed. */
export async function closedPort (): Promise<number> {
  const server = await serve(() => {})
  await server.close()
  return server.port
}

/** A line server: one answer line per request line, in order (the gateway's framing). */
export async function lineServer (answer: (request: string) => string): Promise<KnownServer> {
  return await serve(socket => {
    let pending = ''
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8')
      let newline = pending.indexOf('\n')
      while (newline >= 0) {
        socket.write(answer(pending.slice(0, newline)) + '\n')
        pending = pending.slice(newline + 1)
        newline = pending.indexOf('\n')
      }
    })
  })
}

/**
 * A line server that starts cold: requests that arrive within `coldMs` of its first one are
 * answered `slowMs` late, the rest at once (as a fresh process runs its first requests slowly).
 * `seen()` counts the requests it has received.
 */
export async function coldLineServer (coldMs: number, slowMs: number): Promise<KnownServer & { seen: () => number }> {
  let first = -1
  let seen = 0
  const answer = JSON.stringify({ ok: true, n: '104729', is_prime: true }) + '\n'
  const server = await serve(socket => {
    let pending = ''
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8')
      for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n')) {
        pending = pending.slice(newline + 1)
        seen++
        const now = performance.now()
        if (first < 0) first = now
        if (now - first < coldMs) setTimeout(() => { if (!socket.destroyed) socket.write(answer) }, slowMs)
        else socket.write(answer)
      }
    })
  })
  return { ...server, seen: () => seen }
}
