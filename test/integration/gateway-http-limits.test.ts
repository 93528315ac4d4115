import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HTTP_HEADERS_TIMEOUT_MS } from '../../node/gateway/http-api.ts'
import { gatewayAddress } from '../utils/gateway-client.ts'
import { MeshProcess } from '../utils/mesh-process.ts'

const MAX_CONNECTIONS = 5

/** A raw TCP connection to the HTTP server: what it answered, and when it closed. */
function rawClient (address: { host: string, port: number }): { socket: Socket, received: () => string, closed: Promise<number> } {
  const socket = connect(address)
  let text = ''
  socket.on('data', (d: Buffer) => { text += d.toString() })
  socket.on('error', () => {})
  const opened = Date.now()
  const closed = new Promise<number>(resolve => socket.once('close', () => { resolve(Date.now() - opened) }))
  return { socket, received: () => text, closed }
}

async function connected (socket: Socket): Promise<void> {
  if (!socket.connecting) return
  await new Promise(resolve => socket.once('connect', resolve))
}

/** The HTTP server's own limits: a connection cap, and a deadline for the request's headers. */
describe('gateway HTTP limits', () => {
  let node: MeshProcess
  let address: { host: string, port: number }
  const clients: Socket[] = []
  beforeAll(async () => {
    node = await MeshProcess.start({ name: 'alice', args: ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--http', '127.0.0.1:0', '--gateway-max-connections', String(MAX_CONNECTIONS)] })
    address = await gatewayAddress(node, 'http')
  })
  afterAll(async () => {
    for (const c of clients) c.destroy()
    await node.destroy()
  })

  it('a client trickling its headers is answered 408 and cut once the header deadline passes', async () => {
    const slow = rawClient(address)
    clients.push(slow.socket)
    await connected(slow.socket)
    slow.socket.write('GET /api/peers HTTP/1.1\r\nHost: 127.0.0.1\r\n')
    const trickle = setInterval(() => { slow.socket.write(`X-Slow-${Date.now()}: 1\r\n`) }, 1000)
    try {
      const lasted = await slow.closed
      expect(slow.received()).toMatch(/^HTTP\/1\.1 408 /)
      expect(lasted).toBeGreaterThanOrEqual(HTTP_HEADERS_TIMEOUT_MS - 500)
      expect(lasted).toBeLessThan(HTTP_HEADERS_TIMEOUT_MS + 5000)
    } finally {
      clearInterval(trickle)
    }
  }, 30_000)

  it('connections past --gateway-max-connections are closed at once; those within it are served', async () => {
    const held = Array.from({ length: MAX_CONNECTIONS }, () => rawClient(address))
    clients.push(...held.map(h => h.socket))
    await Promise.all(held.map(async h => { await connected(h.socket) }))
    const extra = rawClient(address)
    clients.push(extra.socket)
    const lasted = await extra.closed
    expect(lasted).toBeLessThan(2000)
    expect(extra.received()).toBe('')
    // One of the held connections still gets its answer.
    held[0].socket.write('GET /api/peers HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
    await held[0].closed
    expect(held[0].received()).toMatch(/^HTTP\/1\.1 200 /)
    expect(held[0].received()).toContain('"nick":"alice"')
  })
})
