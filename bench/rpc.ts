/**
 * rpc benchmark: latency and throughput of `/mesh/rpc/1.0.0` between two processes.
 *
 *   npm run bench:rpc -- [--calls 10000] [--inflight 64] [--json]
 *
 * Starts one node in this process and one `mesh start` child on loopback (mDNS off), waits
 * until each sees the other, then, always calling the child's `rpc.ping` (a null method
 * that echoes its argument) with the peer pinned so only the rpc path is measured:
 *  1. `--calls` sequential calls on the client's pooled, multiplexed streams (the default
 *     path of `node.rpc.call`): p50/p90/p99/max from an HDR histogram.
 *  2. for comparison, 1,000 sequential calls each on a fresh stream (open, one request,
 *     close): what reusing a stream saves.
 *  3. `--calls` × 2 calls with `--inflight` in flight at once: calls per second.
 * Targets: sequential p50 ≤ 0.5 ms and p99 ≤ 3 ms; exit code 1 when one is missed.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { build, type Histogram } from 'hdr-histogram-js'
import { createMeshNode, type MeshNode } from '../node/mesh-node.ts'
import { defaultLogger } from '../node/logging/logger.ts'
import { ClientChannel } from '../node/rpc/client-channel.ts'
import { systemClock } from '../node/time/clock.ts'
import { RPC_PROTOCOL } from '../protocols/rpc/index.ts'
import { peerIdFromString } from '@libp2p/peer-id'
import { MeshProcess, waitUntil } from '../test/utils/mesh-process.ts'

const TARGET_P50_MS = 0.5
const TARGET_P99_MS = 3
const FRESH_STREAM_CALLS = 1000
const WARMUP_CALLS = 1000

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '10000' },
    inflight: { type: 'string', default: '64' },
    json: { type: 'boolean', default: false }
  }
})
const calls = Number(values.calls)
const inflight = Number(values.inflight)
if (!Number.isInteger(calls) || calls < 1 || calls > 1_000_000) throw new Error('--calls must be from 1 to 1,000,000')
if (!Number.isInteger(inflight) || inflight < 1 || inflight > 512) throw new Error('--inflight must be from 1 to 512')

const progress = (line: string): void => { process.stderr.write(`${line}\n`) }

function histogram (): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 })
}

function summary (h: Histogram): Record<string, number> {
  const ms = (p: number): number => Math.round(h.getValueAtPercentile(p)) / 1000
  return { p50: ms(50), p90: ms(90), p99: ms(99), max: Math.round(h.maxValue) / 1000, count: h.totalCount }
}

async function sequential (node: MeshNode, peer: string, n: number, h?: Histogram): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    await node.rpc.call('rpc', 'ping', null, { peer })
    h?.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)))
  }
}

/** A call on a stream of its own: open, request, answer, close; the cost reuse avoids. */
async function freshStreamCall (node: MeshNode, peer: string): Promise<void> {
  const stream = await node.libp2p.dialProtocol(peerIdFromString(peer), RPC_PROTOCOL)
  const channel = new ClientChannel({ stream, peer, metrics: node.rpc.metrics, clock: systemClock, log: defaultLogger.forComponent('bench'), onClose: () => {} })
  await new Promise<void>((resolve, reject) => {
    channel.request('rpc', 'ping', null, 10_000, { onResult: () => { resolve() }, onItem: () => {}, onEnd: () => { resolve() }, onError: reject })
  })
  channel.close()
}

async function concurrent (node: MeshNode, peer: string, total: number, width: number): Promise<number> {
  let next = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < total) {
      next++
      await node.rpc.call('rpc', 'ping', null, { peer })
    }
  }))
  return total / ((performance.now() - started) / 1000)
}

const home = await mkdtemp(join(tmpdir(), 'mesh-bench-rpc-'))
let server: MeshProcess | undefined
let client: MeshNode | undefined
let failed = false
try {
  server = await MeshProcess.start({ name: 'bench-server' })
  client = await createMeshNode({ home, nick: 'bench-client', listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [server.bootstrapAddr], mdns: false })
  const peer = server.id
  const node = client
  await waitUntil('the client to see the server offering rpc.ping', async () =>
    node.membership.member(peer)?.services.includes('rpc.ping') === true, 20_000)

  progress(`warming up (${WARMUP_CALLS} calls)`)
  await sequential(node, peer, WARMUP_CALLS)

  progress(`${calls} sequential calls on reused streams`)
  const reused = histogram()
  await sequential(node, peer, calls, reused)

  progress(`${FRESH_STREAM_CALLS} sequential calls, a new stream each`)
  const fresh = histogram()
  for (let i = 0; i < FRESH_STREAM_CALLS; i++) {
    const t = performance.now()
    await freshStreamCall(node, peer)
    fresh.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)))
  }

  progress(`${calls * 2} calls, ${inflight} in flight`)
  const rate = await concurrent(node, peer, calls * 2, inflight)

  const report = {
    calls,
    inflight,
    cpus: cpus().length,
    loadavg1: Math.round(loadavg()[0] * 100) / 100,
    sequentialReusedMs: summary(reused),
    sequentialFreshStreamMs: summary(fresh),
    callsPerSecond: Math.round(rate),
    targets: { p50Ms: TARGET_P50_MS, p99Ms: TARGET_P99_MS }
  }
  failed = report.sequentialReusedMs.p50 > TARGET_P50_MS || report.sequentialReusedMs.p99 > TARGET_P99_MS
  if (values.json === true) {
    process.stdout.write(JSON.stringify(report) + '\n')
  } else {
    const row = (label: string, s: Record<string, number>): string =>
      `${label.padEnd(34)} p50 ${s.p50.toFixed(3)} ms  p90 ${s.p90.toFixed(3)} ms  p99 ${s.p99.toFixed(3)} ms  max ${s.max.toFixed(3)} ms`
    process.stdout.write([
      `rpc between two processes on loopback (${report.cpus} cpus, load ${report.loadavg1})`,
      row(`${calls} sequential, reused stream`, report.sequentialReusedMs),
      row(`${FRESH_STREAM_CALLS} sequential, new stream each`, report.sequentialFreshStreamMs),
      `${calls * 2} calls, ${inflight} in flight: ${report.callsPerSecond} calls/s`,
      `targets: p50 ≤ ${TARGET_P50_MS} ms, p99 ≤ ${TARGET_P99_MS} ms: ${failed ? 'MISSED' : 'met'}`
    ].join('\n') + '\n')
  }
} finally {
  await client?.shutdown().catch(() => {})
  await server?.destroy()
  await rm(home, { recursive: true, force: true })
}
process.exitCode = failed ? 1 : 0
