/**
 * The floor under chat's capacity: what libp2p and gossipsub alone cost per message.
 *
 *   npm run bench:gossip-floor [-- --nodes 8 --rates 120,240,360,480 --seconds 5 --bytes 450]
 *
 * Starts N bare libp2p nodes on loopback, one process each, built by the same
 * createMeshLibp2p as a mesh node (TCP, Noise, Yamux, gossipsub with mesh's degrees and
 * signing), all connected to all and subscribed to one topic, and nothing else: no
 * membership, no chat validator, no author signature, no database. Every node publishes its
 * share of each rate; every node counts what it receives. Printed per rate: the share of
 * messages delivered, delivery latency p50/p99, and each node's CPU (utime + stime) per
 * message it received. Compared with `npm run bench:chat`'s CPU per message per node, the
 * difference is what mesh's chat adds on top of the transport; if the floor alone exceeds
 * the CPU a target rate leaves per message (2 cores ÷ (rate × nodes)), no chat built on this
 * transport reaches that rate on this machine.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { build } from 'hdr-histogram-js'
import { createMeshLibp2p } from '../node/libp2p/create-libp2p.ts'

const TOPIC = 'floor'
const CLOCK_TICKS_PER_SECOND = 100
const DRAIN_TIMEOUT_MS = 15_000

type ToChild =
  | { kind: 'dial', addresses: string[], peers: number }
  | { kind: 'publish', perSecond: number, seconds: number, offsetMs: number, bytes: number }
  | { kind: 'report' }
  | { kind: 'exit' }
type FromChild =
  | { kind: 'listening', address: string }
  | { kind: 'ready' }
  | { kind: 'published', sent: number, failed: number }
  | { kind: 'received', count: number, latenciesMs: number[] }

if (process.argv.includes('--child')) await runChild()
else await runParent()

async function runChild (): Promise<void> {
  const node = await createMeshLibp2p({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
  const pubsub = node.services.pubsub
  let received = 0
  let latencies: number[] = []
  pubsub.addEventListener('message', event => {
    if (event.detail.topic !== TOPIC) return
    received++
    // The first 8 bytes carry the send time (ms since the epoch, one clock on one machine).
    latencies.push(Date.now() - Number(new DataView(event.detail.data.buffer, event.detail.data.byteOffset).getFloat64(0)))
  })
  pubsub.subscribe(TOPIC)
  const send = (message: FromChild): void => { process.send?.(message) }
  send({ kind: 'listening', address: node.getMultiaddrs()[0].toString() })
  process.on('message', (message: ToChild) => {
    void (async () => {
      if (message.kind === 'dial') {
        // One at a time: a node admits only a few handshakes from one host at once.
        for (const address of message.addresses) {
          while (!(await node.dial(multiaddr(address)).then(() => true, () => false))) await new Promise(resolve => setTimeout(resolve, 100))
        }
        while (pubsub.getSubscribers(TOPIC).length < message.peers) await new Promise(resolve => setTimeout(resolve, 50))
        send({ kind: 'ready' })
      } else if (message.kind === 'publish') {
        let sent = 0
        let failed = 0
        const total = Math.round(message.perSecond * message.seconds)
        const started = performance.now() + message.offsetMs
        for (let k = 0; k < total; k++) {
          const wait = started + k * 1000 / message.perSecond - performance.now()
          if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
          const data = new Uint8Array(message.bytes)
          crypto.getRandomValues(data.subarray(8))
          new DataView(data.buffer).setFloat64(0, Date.now())
          await pubsub.publish(TOPIC, data).then(() => { sent++ }, () => { failed++ })
        }
        send({ kind: 'published', sent, failed })
      } else if (message.kind === 'report') {
        send({ kind: 'received', count: received, latenciesMs: latencies })
        received = 0
        latencies = []
      } else {
        await node.stop()
        process.exit(0)
      }
    })()
  })
}

interface Child { process: ChildProcess, next: (kind: FromChild['kind']) => Promise<FromChild> }

function startChild (): Child {
  const child = fork(new URL(import.meta.url).pathname, ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const waiting: Array<{ kind: string, resolve: (m: FromChild) => void }> = []
  const queued: FromChild[] = []
  child.on('message', (message: FromChild) => {
    const i = waiting.findIndex(w => w.kind === message.kind)
    if (i >= 0) waiting.splice(i, 1)[0].resolve(message)
    else queued.push(message)
  })
  return {
    process: child,
    next: async kind => await new Promise(resolve => {
      const i = queued.findIndex(m => m.kind === kind)
      if (i >= 0) resolve(queued.splice(i, 1)[0])
      else waiting.push({ kind, resolve })
    })
  }
}

function cpuMs (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 1000 / CLOCK_TICKS_PER_SECOND
}

async function runParent (): Promise<void> {
  const { values: opts } = parseArgs({
    options: {
      nodes: { type: 'string', default: '8' },
      rates: { type: 'string', default: '120,240,360,480' },
      seconds: { type: 'string', default: '5' },
      bytes: { type: 'string', default: '450' }
    }
  })
  const count = Number(opts.nodes)
  const seconds = Number(opts.seconds)
  const bytes = Math.max(16, Number(opts.bytes))
  console.log(`gossip floor: ${count} bare libp2p nodes, ${bytes}-byte messages · ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, load ${loadavg()[0].toFixed(1)}`)
  const children = Array.from({ length: count }, startChild)
  const stop = (): void => { for (const c of children) c.process.kill('SIGKILL') }
  process.on('SIGINT', () => { stop(); process.exit(130) })
  try {
    const addresses = await Promise.all(children.map(async c => (await c.next('listening') as { address: string }).address))
    // Each pair dials once (the later node dials the earlier): two simultaneous dials would
    // leave two connections per pair, which is not what a mesh node keeps.
    children.forEach((c, i) => { c.process.send({ kind: 'dial', addresses: addresses.slice(0, i), peers: count - 1 } satisfies ToChild) })
    await Promise.all(children.map(async c => await c.next('ready')))
    // Gossipsub forms its mesh on its heartbeat (1 s); measure once it has settled.
    await new Promise(resolve => setTimeout(resolve, 3000))
    const idleBefore = children.map(c => cpuMs(c.process.pid ?? 0))
    await new Promise(resolve => setTimeout(resolve, 3000))
    const idleMsPerSecond = children.reduce((sum, c, i) => sum + cpuMs(c.process.pid ?? 0) - idleBefore[i], 0) / count / 3
    console.log(`idle: ${idleMsPerSecond.toFixed(0)} ms of CPU a second per node`)
    for (const c of children) { c.process.send({ kind: 'report' } satisfies ToChild); await c.next('received') }
    for (const rate of opts.rates.split(',').map(Number)) {
      const cpuBefore = children.map(c => cpuMs(c.process.pid ?? 0))
      const wallBefore = performance.now()
      children.forEach((c, i) => { c.process.send({ kind: 'publish', perSecond: rate / count, seconds, offsetMs: i * 1000 / rate, bytes } satisfies ToChild) })
      const published = await Promise.all(children.map(async c => await c.next('published') as { sent: number, failed: number }))
      const sent = published.reduce((sum, p) => sum + p.sent, 0)
      const failed = published.reduce((sum, p) => sum + p.failed, 0)
      // Each node receives every message but its own.
      const expected = children.map((_, i) => sent - published[i].sent)
      const drainUntil = performance.now() + DRAIN_TIMEOUT_MS
      let reports: Array<{ count: number, latenciesMs: number[] }> = []
      let counted = children.map(() => 0)
      const latency = build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000, numberOfSignificantValueDigits: 3 })
      do {
        await new Promise(resolve => setTimeout(resolve, 200))
        reports = await Promise.all(children.map(async c => { c.process.send({ kind: 'report' } satisfies ToChild); return await c.next('received') as { count: number, latenciesMs: number[] } }))
        counted = counted.map((n, i) => n + reports[i].count)
        for (const r of reports) for (const ms of r.latenciesMs) latency.recordValue(Math.max(0, ms))
      } while (counted.some((n, i) => n < expected[i]) && performance.now() < drainUntil)
      const wallMs = performance.now() - wallBefore
      const cpuUs = children.map((c, i) => (cpuMs(c.process.pid ?? 0) - cpuBefore[i]) * 1000 / Math.max(1, counted[i]))
      const meanUs = cpuUs.reduce((a, b) => a + b, 0) / count
      const aboveIdleUs = meanUs - idleMsPerSecond * wallMs / Math.max(1, sent)
      const budgetUs = availableParallelism() * 1e6 / (rate * count)
      const delivered = counted.reduce((a, b) => a + b, 0) / expected.reduce((a, b) => a + b, 0)
      console.log(`${String(rate).padStart(5)}/s  sent ${sent}${failed > 0 ? ` (${failed} failed)` : ''}  delivered ${(delivered * 100).toFixed(1)}%  p50 ${latency.getValueAtPercentile(50)} ms  p99 ${latency.getValueAtPercentile(99)} ms  CPU/msg/node ${Math.round(meanUs)} µs (above idle ${Math.round(aboveIdleUs)})  budget at this rate ${Math.round(budgetUs)} µs`)
    }
    for (const c of children) c.process.send({ kind: 'exit' } satisfies ToChild)
    await Promise.all(children.map(async c => await new Promise(resolve => c.process.once('exit', resolve))))
  } finally {
    stop()
  }
}
