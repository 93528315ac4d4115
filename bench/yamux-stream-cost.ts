/**
 * The cost of small messages on one Yamux stream, both ends in this process: two libp2p nodes
 * built by createMeshLibp2p (TCP, Noise, Yamux) on loopback, `--messages` length-prefixed
 * messages of `--bytes` one way, ten per event-loop turn (as a busy node writes them). Prints
 * one JSON line: process CPU µs per message (both ends), wall ms, and the window-update
 * frames the receiver sent. Run by bench/yamux-window-updates.ts once per variant, each in
 * its own process (the variant is chosen when the first node is created).
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { parseArgs } from 'node:util'
import { createMeshLibp2p } from '../node/libp2p/create-libp2p.ts'

const { values: opts } = parseArgs({ options: { messages: { type: 'string', default: '20000' }, bytes: { type: 'string', default: '300' } } })
const MESSAGES = Number(opts.messages)
const PROTOCOL = '/mesh-bench/yamux-stream-cost/1.0.0'
const WINDOW_UPDATE = 1

const listener = await createMeshLibp2p({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
const dialer = await createMeshLibp2p({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
let read = 0
let windowUpdates = 0
await listener.handle(PROTOCOL, (stream: Stream) => {
  // The receiver's frames as its muxer sends them (a Yamux stream's own field).
  const yamux = stream as unknown as { sendFrame: (header: { type: number }, data?: unknown) => boolean }
  const sendFrame = yamux.sendFrame
  yamux.sendFrame = (header, data) => {
    if (header.type === WINDOW_UPDATE) windowUpdates++
    return sendFrame(header, data)
  }
  void (async () => {
    const lp = lpStream(stream)
    while (read < MESSAGES) {
      await lp.read()
      read++
    }
  })()
})
const lp = lpStream(await dialer.dialProtocol(listener.getMultiaddrs()[0], PROTOCOL))
const message = new Uint8Array(Number(opts.bytes)).fill(1)
const cpuBefore = process.cpuUsage()
const started = performance.now()
for (let i = 0; i < MESSAGES; i++) {
  await lp.write(message)
  if (i % 10 === 9) await new Promise(resolve => setImmediate(resolve))
}
while (read < MESSAGES) await new Promise(resolve => setImmediate(resolve))
const cpu = process.cpuUsage(cpuBefore)
console.log(JSON.stringify({ cpuUsPerMessage: (cpu.user + cpu.system) / MESSAGES, wallMs: performance.now() - started, windowUpdates }))
await Promise.all([dialer.stop(), listener.stop()])
