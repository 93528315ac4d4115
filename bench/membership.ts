/**
 * Membership benchmark: failure-detection latency and gossip cost on a real mesh.
 *
 *   npm run bench:membership -- [--idle-seconds 60] [--rounds 10] [--nodes 5] [--json]
 *
 * Starts `--nodes` real `mesh start` processes on loopback (mDNS off, default 1000 ms
 * heartbeat), then:
 *  1. idle phase: nobody is hurt for `--idle-seconds`; every node must keep showing every
 *     other one alive. Counts false suspicions and false deaths (from each node's transition
 *     counters, which see even a suspicion refuted between two polls) and the gossip messages
 *     each node sends and receives per second.
 *  2. kill rounds: `--rounds` times each of kill -9, SIGSTOP and SIGTERM, a different victim
 *     each round. Measures the time from the signal until every other node shows the new
 *     state (dead, dead, left), polling their control sockets every ~10 ms, then restarts the
 *     victim on the same home (same peer id) and waits until everyone shows it alive again.
 *
 * Progress goes to stderr, the table to stdout (or one JSON document with --json). The nodes
 * run unmodified: everything is observed through the control socket, as `mesh peers` does.
 * Exit code 1 when a p99 target is missed, a round never converged, or the idle phase saw a
 * false suspicion or death.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { build, type Histogram } from 'hdr-histogram-js'
import { callNode } from '../cli/control-client.ts'
import { MeshProcess, type MemberJson } from '../test/utils/mesh-process.ts'

const LOOPBACK = ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0']
/** The node default; the targets below are stated for it. */
const HEARTBEAT_MS = 1000
/** How often detection is polled: fine enough that the poll adds little to a ~150 ms figure. */
const DETECT_POLL_MS = 10
/** How often the idle phase looks at every table (the counters catch what falls between). */
const IDLE_POLL_MS = 200
/** A round that has not converged by then counts as missed (SIGSTOP needs ~4.5 s). */
const ROUND_TIMEOUT_MS = 30_000
const REJOIN_TIMEOUT_MS = 30_000
/** Pause after a restart before the next round: two heartbeats. */
const SETTLE_MS = 2 * HEARTBEAT_MS

interface Kind {
  label: string
  signal: NodeJS.Signals
  expect: MemberJson['state']
  targetP99Ms: number
}

const KINDS: Kind[] = [
  { label: 'kill -9', signal: 'SIGKILL', expect: 'dead', targetP99Ms: 1500 },
  { label: 'SIGSTOP', signal: 'SIGSTOP', expect: 'dead', targetP99Ms: 5000 },
  { label: 'SIGTERM', signal: 'SIGTERM', expect: 'left', targetP99Ms: 500 }
]

interface KindResult {
  kind: string
  expect: string
  rounds: number
  missed: number
  /** Rounds where some observer showed another non-alive state first (e.g. dead before left). */
  detours: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  targetP99Ms: number
  met: boolean
  samplesMs: number[]
  rejoinP50Ms: number
}

interface IdleResult {
  seconds: number
  falseSuspicions: number
  falseDeaths: number
  /** Every transition counted by the nodes during the phase, by `to=...,cause=...`. */
  transitions: Record<string, number>
  /** Polled (observer, member) pairs seen in a state other than alive. */
  nonAliveObservations: number
  polls: number
  /** The longest time between two polls: above IDLE_POLL_MS plus a little, this process was starved too. */
  maxPollGapMs: number
  gossipPerNode: Array<{ nick: string, sentPerSec: number, receivedPerSec: number }>
}

const { values: opts } = parseArgs({
  options: {
    'idle-seconds': { type: 'string', default: '60' },
    rounds: { type: 'string', default: '10' },
    nodes: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false }
  }
})
const idleSeconds = wholeNumber('--idle-seconds', opts['idle-seconds'], 0, 24 * 3600)
const rounds = wholeNumber('--rounds', opts.rounds, 0, 1000)
const nodeCount = wholeNumber('--nodes', opts.nodes, 3, 20)

const progress = (line: string): void => { process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`) }

const root = await mkdtemp(join(tmpdir(), 'mesh-bench-membership-'))
const nodes: MeshProcess[] = []
let cleaning: Promise<void> | undefined
const cleanup = async (): Promise<void> => {
  cleaning ??= (async () => {
    await Promise.all(nodes.map(async n => { await n.destroy(true).catch(() => {}) }))
    await rm(root, { recursive: true, force: true })
  })()
  await cleaning
}
process.once('SIGINT', () => { progress('interrupted: stopping the nodes'); void cleanup().finally(() => process.exit(130)) })

try {
  const loadBefore = loadavg()
  const startedAt = Date.now()
  progress(`starting ${nodeCount} nodes on loopback (heartbeat ${HEARTBEAT_MS} ms); load average ${fmtLoad(loadBefore)} on ${cpus().length} cores`)
  nodes.push(await startNode(0, []))
  nodes.push(...await Promise.all(Array.from({ length: nodeCount - 1 }, async (_, i) => await startNode(i + 1, [nodes[0].bootstrapAddr]))))
  await waitAllAlive()
  progress('all nodes show all nodes alive')

  const idle = await idlePhase(idleSeconds)
  const results: KindResult[] = []
  let victimIndex = 0
  for (const kind of KINDS) {
    const samples: number[] = []
    const rejoin: number[] = []
    let missed = 0
    let detours = 0
    for (let round = 1; round <= rounds; round++) {
      // Round-robin over the nodes: never the same victim twice in a row.
      const victim = victimIndex++ % nodeCount
      const outcome = await killRound(kind, victim)
      if (outcome.ms == null) missed++
      else samples.push(outcome.ms)
      if (outcome.detour) detours++
      progress(`${kind.label} ${round}/${rounds}: ${nodes[victim].name} ${outcome.ms == null ? `NOT ${kind.expect} everywhere within ${ROUND_TIMEOUT_MS} ms` : `${kind.expect} on all ${nodeCount - 1} others after ${outcome.ms} ms`}${outcome.detour ? ' (another state first)' : ''}`)
      rejoin.push(await restart(victim))
    }
    results.push(summarize(kind, samples, missed, detours, rejoin))
  }
  const loadAfter = loadavg()

  const summary = {
    nodes: nodeCount,
    heartbeatMs: HEARTBEAT_MS,
    rounds,
    cores: cpus().length,
    loadAverageBefore: loadBefore.map(round2),
    loadAverageAfter: loadAfter.map(round2),
    seconds: Math.round((Date.now() - startedAt) / 1000),
    idle,
    detection: results
  }
  if (opts.json) {
    process.stdout.write(JSON.stringify(summary, null, 2) + '\n')
  } else {
    printTable(summary)
  }
  const failed = results.some(r => !r.met) || idle.falseSuspicions + idle.falseDeaths > 0
  process.exitCode = failed ? 1 : 0
} finally {
  await cleanup()
}

async function startNode (index: number, bootstrap: string[]): Promise<MeshProcess> {
  return await MeshProcess.start({ name: `n${index}`, home: join(root, `n${index}`), args: LOOPBACK, bootstrap })
}

/** Every node shows every node (itself included) alive. */
async function allAlive (): Promise<boolean> {
  const ids = nodes.map(n => n.id).sort().join()
  const tables = await Promise.all(nodes.map(async n => await n.peers()))
  return tables.every(t => t.members.filter(m => m.state === 'alive').map(m => m.id).sort().join() === ids)
}

async function waitAllAlive (timeoutMs = REJOIN_TIMEOUT_MS): Promise<number> {
  const started = performance.now()
  while (performance.now() - started < timeoutMs) {
    if (await allAlive().catch(() => false)) return Math.round(performance.now() - started)
    await sleep(20)
  }
  throw new Error(`the mesh did not show every node alive within ${timeoutMs} ms`)
}

async function metricsOf (node: MeshProcess): Promise<Record<string, Record<string, number>>> {
  return (await callNode(node.home, 'stats')).metrics
}

function sumOf (metrics: Record<string, Record<string, number>>, name: string, filter: (key: string) => boolean = () => true): number {
  return Object.entries(metrics[name] ?? {}).filter(([key]) => filter(key)).reduce((s, [, v]) => s + v, 0)
}

async function idlePhase (seconds: number): Promise<IdleResult> {
  const result: IdleResult = { seconds, falseSuspicions: 0, falseDeaths: 0, transitions: {}, nonAliveObservations: 0, polls: 0, maxPollGapMs: 0, gossipPerNode: [] }
  if (seconds === 0) return result
  progress(`idle phase: ${seconds} s with nobody hurt`)
  const before = await Promise.all(nodes.map(metricsOf))
  const t0 = performance.now()
  const end = t0 + seconds * 1000
  let nextReport = t0 + 60_000
  let lastPollAt = t0
  const logFrom = nodes.map(n => n.output.length)
  while (performance.now() < end) {
    const tables = await Promise.all(nodes.map(async n => await n.peers()))
    result.polls++
    const now = performance.now()
    result.maxPollGapMs = Math.max(result.maxPollGapMs, Math.round(now - lastPollAt))
    lastPollAt = now
    for (const [i, table] of tables.entries()) {
      for (const m of table.members) {
        if (m.state === 'alive') continue
        result.nonAliveObservations++
        progress(`idle: ${nodes[i].name} shows ${m.nick} ${m.state}`)
      }
    }
    if (performance.now() >= nextReport) {
      progress(`idle: ${Math.round((performance.now() - t0) / 1000)} / ${seconds} s, ${result.nonAliveObservations} non-alive observations so far`)
      nextReport += 60_000
    }
    await sleep(IDLE_POLL_MS)
  }
  const after = await Promise.all(nodes.map(metricsOf))
  const elapsedSec = (performance.now() - t0) / 1000
  for (const [i, node] of nodes.entries()) {
    const delta = (name: string, filter?: (key: string) => boolean): number => sumOf(after[i], name, filter) - sumOf(before[i], name, filter)
    result.falseSuspicions += delta('mesh_membership_transitions_total', k => k.includes('to=suspect'))
    result.falseDeaths += delta('mesh_membership_transitions_total', k => k.includes('to=dead'))
    for (const key of new Set([...Object.keys(after[i].mesh_membership_transitions_total ?? {}), ...Object.keys(before[i].mesh_membership_transitions_total ?? {})])) {
      const d = delta('mesh_membership_transitions_total', k => k === key)
      if (d !== 0) result.transitions[key] = (result.transitions[key] ?? 0) + d
    }
    result.gossipPerNode.push({
      nick: node.name,
      sentPerSec: round2(delta('mesh_membership_heartbeats_sent_total') / elapsedSec),
      receivedPerSec: round2(delta('mesh_membership_received_total') / elapsedSec)
    })
  }
  progress(`idle phase done: ${result.falseSuspicions} false suspicions, ${result.falseDeaths} false deaths; longest gap between polls ${result.maxPollGapMs} ms`)
  if (result.falseSuspicions + result.falseDeaths > 0) {
    // What each node logged meanwhile (its state changes, with their causes).
    for (const [i, node] of nodes.entries()) {
      for (const line of node.output.slice(logFrom[i]).split('\n').filter(l => l.trim() !== '')) progress(`  ${node.name}| ${line}`)
    }
  }
  return result
}

/**
 * Signals the victim and times until every other node shows `kind.expect`. Each observer is
 * polled on its own, so a slow answer from one does not delay noticing the others. A figure
 * is the time the answer that showed the new state arrived here: an upper bound, by at most
 * one poll interval plus the control socket's round trip.
 */
async function killRound (kind: Kind, victim: number): Promise<{ ms: number | null, detour: boolean }> {
  await waitAllAlive()
  const target = nodes[victim]
  const observers = nodes.filter((_, i) => i !== victim)
  let detour = false
  const t0 = performance.now()
  target.signal(kind.signal)
  const seenAt = await Promise.all(observers.map(async observer => {
    while (performance.now() - t0 < ROUND_TIMEOUT_MS) {
      const state = await observer.stateOf(target.id).catch(() => undefined)
      if (state === kind.expect) return performance.now()
      // Any other non-alive state on the way (dead before left, left before dead, a
      // suspicion before left) is worth knowing about even when the round converges.
      if (state === 'dead' || state === 'left' || (state === 'suspect' && kind.expect !== 'dead')) detour = true
      await sleep(DETECT_POLL_MS)
    }
    return null
  }))
  if (seenAt.some(t => t == null)) return { ms: null, detour }
  return { ms: Math.ceil(Math.max(...(seenAt as number[])) - t0), detour }
}

/** Restarts the victim on its home (same peer id); returns ms until every node shows all alive. */
async function restart (index: number): Promise<number> {
  const old = nodes[index]
  await old.destroy(true)
  const others = nodes.filter((_, i) => i !== index)
  const started = performance.now()
  nodes[index] = await MeshProcess.start({ name: old.name, home: old.home, args: LOOPBACK, bootstrap: others.map(n => n.bootstrapAddr) })
  if (nodes[index].id !== old.id) throw new Error(`${old.name} came back with another peer id`)
  await waitAllAlive()
  const rejoinMs = Math.round(performance.now() - started)
  // Let the new connections finish their set-up (handshakes, identify, gossip mesh) so the
  // next round measures a mesh at rest, not one still busy greeting the newcomer.
  await sleep(SETTLE_MS)
  return rejoinMs
}

function summarize (kind: Kind, samples: number[], missed: number, detours: number, rejoin: number[]): KindResult {
  const h: Histogram = build({ lowestDiscernibleValue: 1, highestTrackableValue: ROUND_TIMEOUT_MS * 2, numberOfSignificantValueDigits: 3 })
  for (const s of samples) h.recordValue(Math.max(1, s))
  const r = build({ lowestDiscernibleValue: 1, highestTrackableValue: REJOIN_TIMEOUT_MS * 4, numberOfSignificantValueDigits: 3 })
  for (const s of rejoin) r.recordValue(Math.max(1, s))
  const any = samples.length > 0
  const max = any ? Math.max(...samples) : NaN
  // HDR reports the top of a value's bucket (3 significant digits); never above the real max.
  const at = (p: number): number => any ? Math.min(h.getValueAtPercentile(p), max) : NaN
  const p99 = at(99)
  return {
    kind: kind.label,
    expect: kind.expect,
    rounds: samples.length + missed,
    missed,
    detours,
    p50Ms: at(50),
    p99Ms: p99,
    maxMs: max,
    targetP99Ms: kind.targetP99Ms,
    met: any && missed === 0 && p99 <= kind.targetP99Ms,
    samplesMs: samples,
    rejoinP50Ms: rejoin.length > 0 ? r.getValueAtPercentile(50) : NaN
  }
}

function printTable (s: { nodes: number, heartbeatMs: number, rounds: number, cores: number, loadAverageBefore: number[], loadAverageAfter: number[], seconds: number, idle: IdleResult, detection: KindResult[] }): void {
  const out: string[] = []
  out.push(`membership benchmark: ${s.nodes} nodes on loopback, heartbeat ${s.heartbeatMs} ms, ${s.rounds} rounds per kind, ${s.seconds} s in all`)
  out.push(`machine: ${s.cores} cores, load average ${fmtLoad(s.loadAverageBefore)} before, ${fmtLoad(s.loadAverageAfter)} after (other work shares the machine)`)
  out.push('')
  out.push('failure detection: signal -> every other node shows the new state')
  const header = ['kind', 'shows', 'rounds', 'p50 ms', 'p99 ms', 'max ms', 'target p99', 'met', 'missed', 'rejoin p50 ms']
  const rows = s.detection.map(r => [r.kind, r.expect, String(r.rounds), fmtMs(r.p50Ms), fmtMs(r.p99Ms), fmtMs(r.maxMs), `<= ${r.targetP99Ms}`, r.met ? 'yes' : 'NO', String(r.missed), fmtMs(r.rejoinP50Ms)])
  out.push(...table([header, ...rows]))
  out.push('')
  if (s.idle.seconds > 0) {
    out.push(`idle ${s.idle.seconds} s: ${s.idle.falseSuspicions} false suspicions, ${s.idle.falseDeaths} false deaths (${s.idle.nonAliveObservations} non-alive states in ${s.idle.polls} polls of every table; longest gap between polls ${s.idle.maxPollGapMs} ms)`)
    const causes = Object.entries(s.idle.transitions).filter(([k]) => !k.includes('to=alive')).map(([k, v]) => `${k.replace('to=', '').replace(',cause=', ' by ')}: ${v}`)
    if (causes.length > 0) out.push(`  false transitions: ${causes.join(', ')}`)
    const g = s.idle.gossipPerNode
    out.push(`membership gossip per node: ${fmtRange(g.map(x => x.sentPerSec))} messages/s sent, ${fmtRange(g.map(x => x.receivedPerSec))} messages/s received`)
  } else {
    out.push('idle phase skipped (--idle-seconds 0): no false-suspicion or gossip-rate figures')
  }
  process.stdout.write(out.join('\n') + '\n')
}

function table (rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map(r => r[c].length)))
  return rows.map(r => r.map((cell, c) => c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])).join('  '))
}

function fmtMs (ms: number): string {
  return Number.isNaN(ms) ? '-' : String(Math.round(ms))
}

function fmtRange (values: number[]): string {
  const lo = Math.min(...values)
  const hi = Math.max(...values)
  return lo === hi ? String(lo) : `${lo}-${hi}`
}

function fmtLoad (l: number[]): string {
  return l.map(x => x.toFixed(2)).join(' ')
}

function round2 (x: number): number {
  return Math.round(x * 100) / 100
}

function wholeNumber (name: string, text: string, min: number, max: number): number {
  const n = Number(text.replaceAll('_', ''))
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(`bench:membership: ${name} must be a whole number from ${min} to ${max}, got "${text}"\n`)
    process.exit(2)
  }
  return n
}

async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}
