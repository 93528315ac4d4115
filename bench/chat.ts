/**
 * Chat benchmark: delivery latency at a steady rate, capacity, gossip and CPU cost, and
 * partition healing on a real mesh.
 *
 *   npm run bench:chat -- [--nodes 8] [--human-rate 20] [--human-seconds 10]
 *                         [--rates 60,120,...] [--seconds 5] [--no-heal] [--cpu-prof DIR]
 *                         [--gossip-degrees small|default] [--chat-path push|gossip] [--json]
 *
 * Starts `--nodes` real `mesh start` processes on loopback (mDNS off, test hooks on), then:
 *  1. the human row: all nodes together send `--human-rate` messages/s to the lobby for
 *     `--human-seconds` (each node its share, open loop: a send is started on time whether
 *     or not the previous ones were answered).
 *  2. the sweep: the same at each rate of `--rates` for `--seconds`, until a step is out of
 *     bounds (p99 over 100 ms, a message lost, a send failed, or the nodes accepting less
 *     than 95% of the offered rate); the capacity is the highest rate that stayed within.
 *  At each rate: latency is, for every message on every other node, the time it was stored
 *  there minus its timestamp (all nodes share this machine's clock); loss is what a node
 *  still lacks 20 s after the last send; copies are the copies the nodes received by gossip
 *  (duplicates included) and by push, per message; CPU is each node's process CPU time (utime + stime
 *  from /proc/<pid>/stat, 10 ms ticks) over the step divided by the messages it stored,
 *  also less what an idle node spends in as long (measured for 3 s before the first step).
 *  3. partition/heal: the mesh is cut in two halves (connection gater), each half sends,
 *     the cut heals, and the time until every node holds every message is measured by
 *     polling message counts every 100 ms (faster polling loads a busy machine).
 * With `--cpu-prof DIR`, node n1 runs under `node --cpu-prof` and writes its profile to DIR
 * when it exits at the end (summarise it with `node bench/cpu-profile-summary.ts FILE`).
 * Exit code 1 when a target is missed: p99 ≤ 20 ms at the human rate, zero loss, one order,
 * capacity ≥ 360 messages/s, histories equal ≤ 3 s after the heal.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { build } from 'hdr-histogram-js'
import { callNode } from '../cli/control-client.ts'
import { block, counter, history, LOOPBACK_ARGS, say, sayMany, TEST_HOOKS_ENV, unblock } from '../test/utils/chat-mesh.ts'
import { MeshProcess, sleep, waitUntil } from '../test/utils/mesh-process.ts'

const { values: opts } = parseArgs({
  options: {
    nodes: { type: 'string', default: '8' },
    'human-rate': { type: 'string', default: '20' },
    'human-seconds': { type: 'string', default: '10' },
    rates: { type: 'string', default: '60,120,180,240,300,360,420,480,540' },
    seconds: { type: 'string', default: '5' },
    'no-heal': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    'gossip-degrees': { type: 'string', default: 'small' },
    'chat-path': { type: 'string', default: 'push' },
    json: { type: 'boolean', default: false }
  }
})
const NODES = Number(opts.nodes)
const HUMAN_RATE = Number(opts['human-rate'])
const HUMAN_SECONDS = Number(opts['human-seconds'])
const RATES = opts.rates === '' ? [] : opts.rates.split(',').map(Number)
const STEP_SECONDS = Number(opts.seconds)
const TARGET_HUMAN_P99_MS = 20
const CAPACITY_P99_MS = 100
const TARGET_CAPACITY = 360
const TARGET_HEAL_MS = 3000
const MESSAGES_DURING_CUT = 200
/** How long a step may take to reach every node after its last send before what is missing counts as lost. */
const DRAIN_TIMEOUT_MS = 20_000
/**
 * Sends of one node waiting for their answer, below the node's 64 control connections;
 * beyond it the node is not keeping up, which shows as the achieved rate falling short.
 */
const MAX_IN_FLIGHT = 48
/** A step whose sends took longer than this share of their schedule did not get its rate. */
const MIN_ACHIEVED_SHARE = 0.95
const CLOCK_TICKS_PER_SECOND = 100
let stepCount = 0
const progress = (line: string): void => { process.stderr.write(`${line}\n`) }

interface StepResult {
  rate: number
  seconds: number
  messages: number
  /** Messages/s the nodes accepted (`chat.send` answered), all together. */
  achievedRate: number
  /** Sends the nodes refused or failed: the message does not exist, so it is not counted as lost. */
  sendErrors: number
  lost: number
  sameOrder: boolean
  latencyMs: { p50: number, p99: number, max: number, samples: number }
  copiesPerMessage: number
  /** Messages stored from anti-entropy instead of gossip, over all nodes. */
  pulledBySync: number
  /** Process CPU per message stored, per node: the mean and the busiest node; `aboveIdle` less what an idle node spends in as long. */
  cpuUsPerMessage: { mean: number, max: number, aboveIdle: number }
  /** Busy share of the machine's cores during the step, all nodes together. */
  cpuShare: number
}

async function roomCount (node: MeshProcess): Promise<number> {
  const { rooms } = await callNode<{ rooms: Array<{ room: string, messages: number }> }>(node.home, 'chat.rooms')
  return rooms.find(r => r.room === 'lobby')?.messages ?? 0
}

/** utime + stime of a process, in ms. */
function cpuMs (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 1000 / CLOCK_TICKS_PER_SECOND
}

/** Copies of room messages received: by gossip (duplicates included) and by the authors' push. */
async function copiesReceived (nodes: MeshProcess[]): Promise<number> {
  return await summed(nodes, 'mesh_gossip_copies_received_total', 'topic=chat') + await summed(nodes, 'mesh_chat_push_received_total', '')
}

async function summed (nodes: MeshProcess[], name: string, labels: string): Promise<number> {
  return (await Promise.all(nodes.map(async n => await counter(n, name, labels)))).reduce((a, b) => a + b, 0)
}

/**
 * Every node sends its share of `rate` messages/s for `seconds`, each send started on time
 * (while fewer than MAX_IN_FLIGHT wait). Returns how many were sent, failed, and the time it took.
 */
async function sendAtRate (nodes: MeshProcess[], rate: number, seconds: number, tag: string): Promise<{ sent: number, failed: number, ms: number }> {
  const total = Math.round(rate * seconds)
  const intervalMs = 1000 * nodes.length / rate
  const started = performance.now()
  let failed = 0
  await Promise.all(nodes.map(async (node, i) => {
    const share = Math.floor(total / nodes.length) + (i < total % nodes.length ? 1 : 0)
    const inFlight = new Set<Promise<unknown>>()
    for (let k = 0; k < share; k++) {
      // Nodes are staggered so the mesh sees a steady stream, not bursts of eight.
      const due = started + (k + i / nodes.length) * intervalMs
      const wait = due - performance.now()
      if (wait > 0) await sleep(wait)
      while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight)
      const send = say(node, `${tag} ${i}-${k}`).catch(() => { failed++ }).finally(() => { inFlight.delete(send) })
      inFlight.add(send)
    }
    await Promise.all(inFlight)
  }))
  return { sent: total - failed, failed, ms: performance.now() - started }
}

/** An idle node's CPU, ms per second (heartbeats, timers), the mean over the nodes. */
async function idleCpu (nodes: MeshProcess[], seconds: number): Promise<number> {
  const before = nodes.map(n => cpuMs(n.pid))
  const started = performance.now()
  await sleep(seconds * 1000)
  const elapsed = (performance.now() - started) / 1000
  return nodes.reduce((sum, n, i) => sum + cpuMs(n.pid) - before[i], 0) / nodes.length / elapsed
}

async function runStep (nodes: MeshProcess[], rate: number, seconds: number, idleMsPerSecond: number): Promise<StepResult> {
  const tag = `step${++stepCount}`
  const before = await Promise.all(nodes.map(roomCount))
  const copiesBefore = await copiesReceived(nodes)
  const pulledBefore = await summed(nodes, 'mesh_chat_messages_total', 'via=sync')
  const cpuBefore = nodes.map(n => cpuMs(n.pid))
  const wallBefore = performance.now()
  const sending = await sendAtRate(nodes, rate, seconds, tag)
  const messages = sending.sent
  const counts = async (): Promise<number[]> => (await Promise.all(nodes.map(roomCount))).map((n, i) => n - before[i])
  await waitUntil(`every node to hold the ${messages} messages at ${rate}/s`, async () => (await counts()).every(n => n >= messages), DRAIN_TIMEOUT_MS, 100).catch(() => {})
  const cpuAfter = nodes.map(n => cpuMs(n.pid))
  const wallMs = performance.now() - wallBefore
  const copies = await copiesReceived(nodes) - copiesBefore
  const pulledBySync = await summed(nodes, 'mesh_chat_messages_total', 'via=sync') - pulledBefore
  const histories = (await Promise.all(nodes.map(async n => await history(n, { received: true, limit: messages + 1000 }))))
    .map(h => h.filter(m => m.text.startsWith(`${tag} `)))
  const latency = build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000, numberOfSignificantValueDigits: 3 })
  for (let i = 0; i < nodes.length; i++) {
    for (const m of histories[i]) if (m.from !== nodes[i].id) latency.recordValue(Math.max(0, (m.receivedAt ?? m.ts) - m.ts))
  }
  const orders = histories.map(h => h.map(m => m.id).join())
  const lost = histories.reduce((sum, h) => sum + messages - new Set(h.map(m => m.id)).size, 0)
  const perMessage = cpuAfter.map((after, i) => (after - cpuBefore[i]) * 1000 / messages)
  const mean = perMessage.reduce((a, b) => a + b, 0) / nodes.length
  return {
    rate,
    seconds,
    messages,
    achievedRate: Math.round(messages * 1000 / sending.ms),
    sendErrors: sending.failed,
    lost,
    sameOrder: orders.every(o => o === orders[0]),
    latencyMs: { p50: latency.getValueAtPercentile(50), p99: latency.getValueAtPercentile(99), max: latency.maxValue, samples: latency.totalCount },
    copiesPerMessage: round(copies / messages),
    pulledBySync,
    cpuUsPerMessage: { mean: Math.round(mean), max: Math.round(Math.max(...perMessage)), aboveIdle: Math.round(mean - idleMsPerSecond * wallMs / messages) },
    cpuShare: round(cpuAfter.reduce((sum, after, i) => sum + after - cpuBefore[i], 0) / wallMs / 2)
  }
}

function withinBounds (s: StepResult): boolean {
  return s.lost === 0 && s.sendErrors === 0 && s.achievedRate >= s.rate * MIN_ACHIEVED_SHARE && s.sameOrder && s.latencyMs.p99 <= CAPACITY_P99_MS
}

function round (x: number): number {
  return Number(x.toFixed(2))
}

async function partitionAndHeal (nodes: MeshProcess[], messages: number): Promise<{ messagesDuringCut: number, healMs: number, equalAfterHeal: boolean }> {
  const base = await roomCount(nodes[0])
  const half = Math.floor(nodes.length / 2)
  const left = nodes.slice(0, half)
  const right = nodes.slice(half)
  progress(`cutting the mesh ${left.length}/${right.length}`)
  for (const n of left) await block(n, right)
  for (const n of right) await block(n, left)
  await waitUntil('each half to see the other dead', async () => {
    const peers = await left[0].peers()
    const peersR = await right[0].peers()
    return peers.members.filter(m => m.state === 'dead').length === right.length && peersR.members.filter(m => m.state === 'dead').length === left.length
  }, 30_000, 100)
  const each = Math.ceil(messages / nodes.length)
  await Promise.all(nodes.map(async (n, i) => {
    await sayMany(n, Array.from({ length: each }, (_, k) => `cut ${i}-${k}`), undefined, 8)
  }))
  const total = base + each * nodes.length
  progress('healing')
  const healStart = Date.now()
  await Promise.all([...left.map(async n => { await unblock(n, right) }), ...right.map(async n => { await unblock(n, left) })])
  let healed = true
  await waitUntil('every node to hold every message after the heal', async () => (await Promise.all(nodes.map(roomCount))).every(n => n === total), 30_000, 100).catch(() => { healed = false })
  const healMs = Date.now() - healStart
  const after = await Promise.all(nodes.map(async n => (await history(n)).map(m => m.id).join()))
  return { messagesDuringCut: each * nodes.length, healMs, equalAfterHeal: healed && after.every(o => o === after[0]) }
}

function stepLine (s: StepResult): string {
  return `${String(s.rate).padStart(5)}/s (got ${s.achievedRate}/s${s.sendErrors > 0 ? `, ${s.sendErrors} sends failed` : ''})  ${String(s.messages).padStart(5)} msgs  p50 ${String(s.latencyMs.p50).padStart(5)}  p99 ${String(s.latencyMs.p99).padStart(6)}  max ${String(s.latencyMs.max).padStart(6)} ms  lost ${s.lost}  order ${s.sameOrder ? 'same' : 'DIFFERS'}  copies/msg ${s.copiesPerMessage.toFixed(1)}  by sync ${s.pulledBySync}  CPU/msg/node ${s.cpuUsPerMessage.mean} µs (max ${s.cpuUsPerMessage.max}, above idle ${s.cpuUsPerMessage.aboveIdle})  CPU ${Math.round(s.cpuShare * 100)}% of 2 cores`
}

async function main (): Promise<number> {
  progress(`starting ${NODES} nodes`)
  // `--gossip-degrees default`: gossipsub's own mesh degrees instead of the small-mesh ones.
  const degrees: Record<string, string> = opts['gossip-degrees'] === 'default' ? { ...TEST_HOOKS_ENV, MESH_GOSSIP_DEGREES: 'default' } : TEST_HOOKS_ENV
  // `--chat-path gossip`: room messages by gossip only, as before push, with this same code.
  const env: Record<string, string> = opts['chat-path'] === 'gossip' ? { ...degrees, MESH_CHAT_PATH: 'gossip' } : degrees
  const profiled = opts['cpu-prof'] != null ? { ...env, NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${opts['cpu-prof']}` } : env
  const nodes: MeshProcess[] = []
  // Every node started is stopped at the end, also when another one failed to start.
  const started = async (start: Promise<MeshProcess>): Promise<MeshProcess> => {
    const node = await start
    nodes.push(node)
    return node
  }
  try {
    const first = await started(MeshProcess.start({ name: 'n0', args: LOOPBACK_ARGS, env }))
    const rest = await Promise.allSettled(Array.from({ length: NODES - 1 }, async (_, i) =>
      await started(MeshProcess.start({ name: `n${i + 1}`, args: LOOPBACK_ARGS, env: i === 0 ? profiled : env, bootstrap: [first.bootstrapAddr] }))))
    for (const r of rest) if (r.status === 'rejected') throw r.reason
    // In name order, so n1 is the profiled node.
    nodes.sort((a, b) => Number(a.name.slice(1)) - Number(b.name.slice(1)))
    await waitUntil('every node to see every node alive', async () => {
      for (const n of nodes) if ((await n.peers()).members.filter(m => m.state === 'alive').length !== NODES) return false
      return true
    }, 30_000, 100)
    // Let the gossip meshes form (a gossipsub heartbeat or two) before measuring.
    await sleep(2000)

    const idle = await idleCpu(nodes, 3)
    progress(`idle: ${idle.toFixed(1)} ms of CPU per second per node`)
    // A first round warms up the code paths (JIT, caches) so the human row measures a running mesh.
    await runStep(nodes, HUMAN_RATE, 2, idle)
    progress(`human rate: ${HUMAN_RATE} messages/s for ${HUMAN_SECONDS} s`)
    const human = await runStep(nodes, HUMAN_RATE, HUMAN_SECONDS, idle)
    progress(stepLine(human))
    const sweep: StepResult[] = []
    for (const rate of RATES) {
      progress(`sweep: ${rate} messages/s for ${STEP_SECONDS} s`)
      const step = await runStep(nodes, rate, STEP_SECONDS, idle)
      sweep.push(step)
      progress(stepLine(step))
      if (!withinBounds(step)) break
    }
    // The sweep stops at the first step out of bounds: every step before it was within.
    const capacity = sweep.filter(withinBounds).at(-1)?.rate ?? 0
    const partition = opts['no-heal'] ? undefined : await partitionAndHeal(nodes, MESSAGES_DURING_CUT)

    const result = { nodes: NODES, idleCpuMsPerSecond: round(idle), human, sweep, capacity, partition }
    if (opts.json) {
      process.stdout.write(JSON.stringify(result) + '\n')
    } else {
      const out = [
        `chat: ${NODES} nodes on loopback, one lobby; latency = stored on the receiver - sender timestamp, over every other node; an idle node spends ${idle.toFixed(1)} ms of CPU per second`,
        `human rate  ${stepLine(human)}  (target p99 <= ${TARGET_HUMAN_P99_MS} ms)`,
        'sweep (stops at the first rate over the bound):',
        ...sweep.map(s => `  ${stepLine(s)}`),
        `capacity: ${capacity} messages/s with p99 <= ${CAPACITY_P99_MS} ms and nothing lost (target ${TARGET_CAPACITY}${RATES.at(-1) === capacity ? '; the sweep ended before crossing the bound' : ''})`
      ]
      if (partition != null) out.push(`partition ${Math.floor(NODES / 2)}/${NODES - Math.floor(NODES / 2)}, ${partition.messagesDuringCut} messages during the cut: histories equal ${partition.healMs} ms after the heal (target <= ${TARGET_HEAL_MS})${partition.equalAfterHeal ? '' : ' -- NOT EQUAL'}`)
      process.stdout.write(out.join('\n') + '\n')
    }
    const steps = [human, ...sweep]
    const ok = human.latencyMs.p99 <= TARGET_HUMAN_P99_MS && human.lost === 0 && steps.every(s => s.sameOrder) && capacity >= TARGET_CAPACITY &&
      (partition == null || (partition.equalAfterHeal && partition.healMs <= TARGET_HEAL_MS))
    return ok ? 0 : 1
  } finally {
    if (opts['cpu-prof'] != null && nodes.length > 1) {
      // A clean exit writes the profile; SIGKILL would lose it.
      nodes[1].signal('SIGTERM')
      await nodes[1].waitForExit(30_000).catch(() => {})
    }
    await Promise.all(nodes.map(async n => { await n.destroy() }))
  }
}

process.exitCode = await main()
