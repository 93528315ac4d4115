import { randomBytes, randomInt } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EchoProcess } from '../utils/echo-process.ts'
import { waitUntil } from '../utils/wait.ts'

const MODELS = ['event', 'fork', 'cluster', 'threads'] as const
const CLIENTS = 200
const MESSAGES_PER_CLIENT = 3
const MAX_MESSAGE = 64 * 1024

function open (port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => { resolve(socket) })
    socket.once('error', reject)
  })
}

/** Reads exactly `n` bytes from the socket (or fails if it closes first). */
function readExactly (socket: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let got = 0
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk)
      got += chunk.length
      if (got >= n) { cleanup(); resolve(Buffer.concat(chunks)) }
    }
    const onClose = (): void => { cleanup(); reject(new Error(`closed after ${got} of ${n} bytes`)) }
    const cleanup = (): void => { socket.off('data', onData); socket.off('close', onClose) }
    socket.on('data', onData)
    socket.on('close', onClose)
  })
}

/** One client: a few messages of random size and content, each answered byte for byte. */
async function echoClient (port: number): Promise<number> {
  const socket = await open(port)
  let bytes = 0
  try {
    for (let i = 0; i < MESSAGES_PER_CLIENT; i++) {
      const message = randomBytes(randomInt(1, MAX_MESSAGE + 1))
      socket.write(message)
      const answer = await readExactly(socket, message.length)
      expect(answer.equals(message)).toBe(true)
      bytes += message.length
    }
  } finally {
    socket.destroy()
  }
  return bytes
}

/** Sends, half-closes at once, and reads until the server closes: everything comes back. */
async function halfClosedClient (port: number, size: number): Promise<void> {
  const socket = await open(port)
  const message = randomBytes(size)
  const answer = new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('end', () => { resolve(Buffer.concat(chunks)) })
    socket.on('error', reject)
  })
  socket.end(message)
  expect((await answer).equals(message)).toBe(true)
  socket.destroy()
}

/** Sends part of a message and resets the connection (RST) without reading the echo. */
async function resettingClient (port: number): Promise<void> {
  const socket = await open(port)
  socket.write(randomBytes(32 * 1024))
  await new Promise(resolve => setImmediate(resolve))
  const closed = new Promise(resolve => socket.once('close', resolve))
  socket.resetAndDestroy()
  await closed
}

describe.each(MODELS)('mesh echo --model %s', (model) => {
  let server: EchoProcess
  beforeAll(async () => { server = await EchoProcess.start(model) })
  afterAll(() => { server?.kill() })

  it(`echoes byte-exact to ${CLIENTS} concurrent clients, survives resets and half-closed sockets, counts it all`, async () => {
    const sent = await Promise.all(Array.from({ length: CLIENTS }, async () => await echoClient(server.port)))
    await Promise.all(Array.from({ length: 20 }, async () => { await resettingClient(server.port) }))
    await Promise.all(Array.from({ length: 20 }, async (_, i) => { await halfClosedClient(server.port, 1 + i * 3000) }))
    // Still serving after the abuse.
    const after = await echoClient(server.port)
    const counters = await server.stop()
    expect(counters.event).toBe('stopped')
    expect(counters.connections).toBe(CLIENTS + 20 + 20 + 1)
    expect(counters.bytesOut).toBeGreaterThanOrEqual(sent.reduce((a, b) => a + b, 0) + after)
    expect(counters.rejected).toBe(0)
  })
})

describe('mesh echo --model fork --workers 2', () => {
  let server: EchoProcess
  beforeAll(async () => { server = await EchoProcess.start('fork', 2) })
  afterAll(() => { server?.kill() })

  const liveChildren = (): number => readdirSync(`/proc/${server.pid}/task`)
    .map(task => readFileSync(`/proc/${server.pid}/task/${task}/children`, 'utf8').trim())
    .filter(text => text !== '')
    .flatMap(text => text.split(' ')).length

  it('keeps at most 2 children; the other connections wait, unread, and are served as children finish', async () => {
    const sockets = await Promise.all(Array.from({ length: 5 }, async () => await open(server.port)))
    const answered = new Set<number>()
    let release = (): void => {}
    const released = new Promise<void>(resolve => { release = resolve })
    const answers = sockets.map(async (socket, i) => {
      const message = Buffer.from(`message ${i}`)
      socket.write(message)
      expect((await readExactly(socket, message.length)).equals(message)).toBe(true)
      answered.add(i)
      // Each client holds its child until released, then closes and frees it for a waiting one.
      await released
      socket.end()
    })
    await waitUntil('two connections answered', () => answered.size >= 2)
    expect(liveChildren()).toBe(2)
    expect(answered.size).toBe(2)
    release()
    await Promise.all(answers)
    expect(answered.size).toBe(5)
    for (const socket of sockets) socket.end()
    await waitUntil('every child exited', () => liveChildren() === 0)
    const counters = await server.stop()
    expect(counters.connections).toBe(5)
    expect(counters.peakConnections).toBe(5)
  })
})
