// `npm run bench:hostile`: one node attacked from a misbehaving libp2p peer, attack after
// attack, while an honest node chats with it and a prober asks its control socket for its id
// every 100 ms. For each attack: did the node survive, what did it count, its RSS before and
// after, did every honest message of that time arrive, and the slowest control answer. Over
// the whole run: RSS growth (target ≤ 100 MiB) and the slowest control answer (≤ 0.5 s).
//
//   --inside        figures from inside the target (it runs with test hooks and --expose-gc):
//                   the longest its event loop was held during each attack, and its V8 heap,
//                   external memory and ArrayBuffers after each attack and again after a
//                   forced full collection: what is held against what V8 merely keeps of
//                   freed heap
//   --only 1,6      run only these attacks (numbered from 1, in the table's order)
//   --profile DIR   write a CPU profile of the target into DIR (bench/cpu-profile-summary.ts)
//   --half-open-seconds N   hold the half-open connections N seconds (default 8): a longer
//                   flood shows where the node's memory levels off
//   --compare-heap N  N rounds of the chosen attacks, each against a node as `mesh start` runs
//                   it and one left with V8's own old-generation growth (cli/old-generation.ts),
//                   alternately; prints each run's RSS growth and the medians
import { generateKeyPair } from '@libp2p/crypto/keys'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { cpus, loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { once } from 'node:events'
import { Worker } from 'node:worker_threads'
import { callNode } from '../cli/control-client.ts'
import { createMeshLibp2p } from '../node/libp2p/create-libp2p.ts'
import { checkoutFile } from '../node/script-entry.ts'
import { OLD_GENERATION_GROWTH_PERCENT } from '../cli/old-generation.ts'
import { CONTROL_SOCKET_FILE } from '../protocols/control/index.ts'
import { chatTopic, MAX_LOGICAL } from '../protocols/chat/index.ts'
import { MEMBERSHIP_TOPIC } from '../protocols/membership/index.ts'
import { RPC_PROTOCOL } from '../protocols/rpc/constants.ts'
import { forgedChatMessage, freshIdentityHeartbeatFrames, heartbeatBytes, holdHalfOpen, lengthPrefix } from '../test/utils/hostile-peer.ts'
import { MeshProcess, sees, waitUntil } from '../test/utils/mesh-process.ts'
import { sleep } from '../test/utils/wait.ts'

const LOOPBACK = ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0']
const LOBBY = chatTopic('lobby')

function rssMb (pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find(l => l.startsWith('VmRSS:'))
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024
}

/** Every counter of the node whose name says it counts drops, refusals or resets, flattened. */
async function defenceCounters (node: MeshProcess): Promise<Map<string, number>> {
  const { metrics } = await callNode(node.home, 'stats')
  const out = new Map<string, number>()
  for (const [name, values] of Object.entries<Record<string, number>>(metrics)) {
    if (!/invalid|dropped|refused|resets|rate_limited/.test(name)) continue
    for (const [labels, v] of Object.entries(values)) out.set(labels === 'total' ? name : `${name}{${labels}}`, v)
  }
  return out
}

const { values: opts } = parseArgs({ options: { inside: { type: 'boolean' }, only: { type: 'string' }, profile: { type: 'string' }, 'half-open-seconds': { type: 'string', default: '8' }, 'compare-heap': { type: 'string' } } })
const halfOpenSeconds = Number(opts['half-open-seconds'])
const only = opts.only?.split(',').map(Number)
const targetNodeOptions = [
  ...(opts.inside === true ? ['--expose-gc'] : []),
  ...(opts.profile != null ? ['--cpu-prof', `--cpu-prof-dir=${resolve(opts.profile)}`] : [])
]

interface ProcessReport {
  rss: number, heapTotal: number, heapUsed: number, external: number, arrayBuffers: number, malloced: number, eventLoopDelayMaxMs: number
  heapSpaces: Record<string, { size: number, used: number }>
}
const mb = (bytes: number): string => (bytes / 1e6).toFixed(0)
async function processReport (target: MeshProcess, gc = false): Promise<ProcessReport> {
  return await callNode<ProcessReport>(target.home, 'test.process', { gc })
}
/** The target's memory in MB: rss, heap used of total, external (of which ArrayBuffers), malloced. */
function memoryLine (m: ProcessReport): string {
  const spaces = Object.entries(m.heapSpaces).filter(([, s]) => s.size >= 1e6).map(([name, s]) => `${name.replace(/_space$/, '')} ${mb(s.used)}/${mb(s.size)}`)
  return `rss ${mb(m.rss)}, heap ${mb(m.heapUsed)} of ${mb(m.heapTotal)} (${spaces.join(', ')}), external ${mb(m.external)} (arrayBuffers ${mb(m.arrayBuffers)}), malloced ${mb(m.malloced)}`
}

/** One run of the chosen attacks against a fresh target; its RSS growth and slowest control answer. */
async function runAttacks (oldGeneration: 'held' | 'v8-default'): Promise<{ growthMb: number, slowestMs: number }> {
  const target = await MeshProcess.start({
    name: 'target',
    args: LOOPBACK,
    env: {
      ...(opts.inside === true || oldGeneration === 'v8-default' ? { MESH_TEST_HOOKS: '1' } : {}),
      ...(oldGeneration === 'v8-default' ? { MESH_OLD_GENERATION_GROWTH: 'default' } : {}),
      ...(targetNodeOptions.length > 0 ? { NODE_OPTIONS: [process.env.NODE_OPTIONS ?? '', ...targetNodeOptions].join(' ').trim() } : {})
    }
  })
  const honest = await MeshProcess.start({ name: 'honest', args: LOOPBACK, bootstrap: [target.bootstrapAddr] })
  const attackerKey = await generateKeyPair('Ed25519')
  const attacker = await createMeshLibp2p({ privateKey: attackerKey, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
  const pubsub = attacker.services.pubsub
  let running = true
  let prober: Worker | undefined
  try {
    await waitUntil('target and honest to see each other', async () => await sees(target, honest, 'alive') && await sees(honest, target, 'alive'), 20_000)
    pubsub.subscribe(MEMBERSHIP_TOPIC)
    pubsub.subscribe(LOBBY)
    await attacker.dial(multiaddr(target.bootstrapAddr))
    await waitUntil('the attacker on both topics', async () =>
      pubsub.getSubscribers(MEMBERSHIP_TOPIC).some(p => p.toString() === target.id) && pubsub.getSubscribers(LOBBY).some(p => p.toString() === target.id))

    // The prober, on a thread of its own: the slowest answer of the control socket, per attack.
    prober = new Worker(checkoutFile('bench/control-prober.ts'), { workerData: { home: target.home } })
    const takeSlowest = async (): Promise<number> => await new Promise(resolve => { prober?.once('message', resolve); prober?.postMessage('take') })
    // The honest chatter: a message every 250 ms; each must reach the target.
    const sent: string[] = []
    const chatter = (async () => {
      for (let i = 0; running; i++) {
        const text = `honest ${i}`
        await callNode(honest.home, 'chat.send', { room: 'lobby', text }).then(() => { sent.push(text) }, () => {})
        await sleep(250)
      }
    })()

    const attacks: Array<[string, () => Promise<void>]> = [
      ['10,000 heartbeats from one origin', async () => {
        for (let seq = 1; seq <= 10_000; seq++) await pubsub.publish(MEMBERSHIP_TOPIC, heartbeatBytes(attacker.peerId.toString(), 'flood', seq))
      }],
      ['heartbeats of 1,100 fresh ids', async () => {
        const frames = await freshIdentityHeartbeatFrames(1100)
        const lp = lpStream(await attacker.dialProtocol(multiaddr(target.bootstrapAddr), '/meshsub/1.1.0'))
        for (const frame of frames) await lp.write(frame)
      }],
      ['a 1 MiB gossip message', async () => {
        await pubsub.publish(MEMBERSHIP_TOPIC, new Uint8Array(1024 * 1024)).catch(() => {})
        await sleep(3000)
        await attacker.dial(multiaddr(target.bootstrapAddr)).catch(() => {})
      }],
      ['1,000 chat messages at once, then counters at 2^31−1 and dates far ahead', async () => {
        for (let seq = 1; seq <= 1000; seq++) await pubsub.publish(LOBBY, await forgedChatMessage(attackerKey, { seq, text: `flood ${seq}` })).catch(() => {})
        await pubsub.publish(LOBBY, await forgedChatMessage(attackerKey, { seq: 1001, ts: Date.now() + 55_000, lc: MAX_LOGICAL })).catch(() => {})
        await pubsub.publish(LOBBY, await forgedChatMessage(attackerKey, { seq: 1002, ts: Number.MAX_SAFE_INTEGER })).catch(() => {})
      }],
      ['8 rpc frames announced at 1 MiB, then trickled for 12 s', async () => {
        const streams = await Promise.all(Array.from({ length: 8 }, async () => await attacker.dialProtocol(multiaddr(target.bootstrapAddr), RPC_PROTOCOL)))
        for (const s of streams) s.send(lengthPrefix(1024 * 1024))
        for (let t = 0; t < 24; t++) {
          for (const s of streams) { try { s.send(Uint8Array.of(1)) } catch {} }
          await sleep(500)
        }
      }],
      [`40 half-open connections from one address, held ${halfOpenSeconds} s`, async () => {
        const port = Number(target.bootstrapAddr.split('/tcp/')[1].split('/')[0])
        const flood = holdHalfOpen('127.0.0.1', port, '127.0.0.2', 40)
        await sleep(halfOpenSeconds * 1000)
        flood.stop()
      }],
      ['80 idle connections to the control socket, held 7 s', async () => {
        const sockets = Array.from({ length: 80 }, () => connect(join(target.home, CONTROL_SOCKET_FILE)).on('error', () => {}))
        await sleep(7000)
        for (const s of sockets) s.destroy()
      }]
    ]

    console.log(`${cpus()[0].model}, ${cpus().length} cores, node ${process.version}, load ${loadavg().map(l => l.toFixed(2)).join(' ')}`)
    const startRss = rssMb(target.pid)
    let overallSlowest = 0
    const rows: string[][] = [['attack', 'survived', 'counted', 'RSS before → after', 'honest chat', 'slowest control answer']]
    const memoryRows: string[] = []
    if (opts.inside === true) memoryRows.push(`at the start: ${memoryLine(await processReport(target))}; after a full GC: ${memoryLine(await processReport(target, true))}`)
    for (const [index, [name, attack]] of attacks.entries()) {
      if (only != null && !only.includes(index + 1)) continue
      const before = await defenceCounters(target)
      const rssBefore = rssMb(target.pid)
      await takeSlowest()
      const sentBefore = sent.length
      if (opts.inside === true) await processReport(target)
      await attack()
      await sleep(2000)
      const survived = target.child.exitCode == null && await callNode(target.home, 'id').then(() => true, () => false)
      const rssAfter = rssMb(target.pid)
      const after = await defenceCounters(target)
      const counted = [...after].filter(([k, v]) => v > (before.get(k) ?? 0)).map(([k, v]) => `${k.replace(/^mesh_/, '')} +${v - (before.get(k) ?? 0)}`)
      const expected = sent.slice(sentBefore)
      let delivered = false
      await waitUntil('the honest messages of this attack on the target', async () => {
        const { messages } = await callNode<{ messages: Array<{ text: string }> }>(target.home, 'chat.history', { room: 'lobby', limit: 100_000 })
        const texts = new Set(messages.map(m => m.text))
        delivered = expected.every(t => texts.has(t))
        return delivered
      }, 10_000, 250).catch(() => {})
      const slowestMs = await takeSlowest()
      overallSlowest = Math.max(overallSlowest, slowestMs)
      rows.push([name, survived ? 'yes' : 'NO', counted.join(', ') || '-', `${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MB`,
        delivered ? `all ${expected.length} arrived` : 'MISSING', `${slowestMs.toFixed(0)} ms`])
      if (opts.inside === true) {
        const m = await processReport(target)
        memoryRows.push(`${name}: event loop held ${m.eventLoopDelayMaxMs.toFixed(0)} ms at most; ${memoryLine(m)}; after a full GC: ${memoryLine(await processReport(target, true))}`)
      }
      console.log(`${name}: done`)
    }
    running = false
    prober.postMessage('stop')
    await Promise.all([once(prober, 'exit'), chatter])
    console.log('')
    for (const row of rows) console.log(`| ${row.join(' | ')} |`)
    const growth = rssMb(target.pid) - startRss
    console.log(`\nover the whole run: RSS ${startRss.toFixed(0)} → ${rssMb(target.pid).toFixed(0)} MB (+${growth.toFixed(0)} MB; target ≤ 100 MiB), slowest control answer ${overallSlowest.toFixed(0)} ms (target ≤ 500 ms)`)
    console.log(`load ${loadavg().map(l => l.toFixed(2)).join(' ')}`)
    if (memoryRows.length > 0) console.log(`\ninside the target (MB):\n${memoryRows.map(r => `- ${r}`).join('\n')}`)
    return { growthMb: growth, slowestMs: overallSlowest }
  } finally {
    running = false
    prober?.postMessage('stop')
    await attacker.stop()
    await honest.destroy()
    // A profile is written when the process exits of itself: ask it to stop first.
    if (opts.profile != null && target.child.exitCode == null) {
      const exited = new Promise(resolve => target.child.once('exit', resolve))
      target.child.kill('SIGTERM')
      await Promise.race([exited, sleep(10_000)])
    }
    await target.destroy()
  }
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2 }
if (opts['compare-heap'] == null) {
  await runAttacks('held')
} else {
  const runs = { held: [] as number[], 'v8-default': [] as number[] }
  for (let round = 0; round < Number(opts['compare-heap']); round++) {
    // Alternately first, so neither always meets the machine as the other left it.
    const order: Array<'held' | 'v8-default'> = round % 2 === 0 ? ['held', 'v8-default'] : ['v8-default', 'held']
    for (const variant of order) {
      console.log(`\n== round ${round + 1}: old generation ${variant === 'held' ? `held at ${OLD_GENERATION_GROWTH_PERCENT}% growth (mesh start)` : "V8's own growth"}`)
      runs[variant].push((await runAttacks(variant)).growthMb)
    }
  }
  for (const [variant, growths] of Object.entries(runs)) {
    console.log(`${variant}: RSS growth ${growths.map(g => `+${g.toFixed(0)}`).join(', ')} MB, median +${median(growths).toFixed(0)} MB`)
  }
}
