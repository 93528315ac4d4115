/**
 * Gateway benchmark: requests/s and latency through the gateway's line protocol, against a
 * prime server in the original style (bench/gateway-python-server.py: Python, a thread per
 * client, JSON lines, a process pool for every computation), run alternately in one run.
 *
 *   npm run bench:gateway -- [--seconds 3] [--runs 3] [--clients 50] [--depth 4] [--json]
 *
 * Each client keeps `--depth` requests in flight on its connection (pipelined) for
 * `--seconds`; latency is from a request's write to its answer (HDR histogram). Scenarios:
 *  1. `prime 104729`, `echo x`, `count 1 100000`: ours (a one-node mesh with a worker per
 *     core, its gateway) and the Python server (a process per core), alternately; targets
 *     ≥ 10x on prime, ≥ 100x on count 1 100000.
 *  2. `count 1 1e7` through another node's gateway with one worker peer (that node, with
 *     `--workers 1`) and with two (a second node of one worker joins, is warmed up, and
 *     leaves again after the run), alternately; target ≥ 1.7x.
 *  3. `prime 104729` in an open loop at half the peak rate of (1), latency from each
 *     request's scheduled time, one request per write, 50 clients, by two generators
 *     alternately, `--runs` times each: the C one (bench/gateway-open-load.c, epoll, any
 *     number in flight per connection, exact percentiles: the verdict, as it leaves the
 *     gateway the CPU a Node generator would take and adds no event-loop lateness) and `mesh
 *     loadtest --rate` (one in flight per connection); target p99 ≤ 2 ms. Then both at fixed
 *     rates (`--open-rates`, default 10,000, 20,000 and 30,000 a second, `--runs` times
 *     each, the rates alternated). Each open loop warms up for 1 s first (left out). Beside
 *     each (bench/gateway-open-loop.ts): the generator's own lateness (its stalls count as
 *     latency in an open loop), the
 *     gateway node's scavenges and event-loop delay during the run, and the time this bench
 *     process lost to stalls while idling meanwhile (what the machine alone does to any
 *     process). Also the half-peak run with the generator pinned to core 0 and the gateway
 *     node to core 1 (taskset), so the two do not take each other's core.
 *
 *   --open-only   only the tail: the peak of (1) for `prime 104729` (ours alone), then the
 *                 open loops of (3) with the target's verdict
 *   --peak R      with --open-only: take R req/s as the pipelined peak instead of measuring
 *                 it (to compare runs at one rate)
 *   --realtime    the gateway node under `chrt -f 10` (SCHED_FIFO, needs root), the
 *                 generator one step above it and this process above both: the other work
 *                 on the machine can no longer delay them, and the generator (the measuring
 *                 instrument) is not kept waiting behind the gateway's threads on 2 cores;
 *                 what is left of the tail is the gateway's and the machine's own
 * Medians of the runs; exit code 1 when a target is missed.
 */
import { execFileSync, spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { connect } from 'node:net'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { rmSync } from 'node:fs'
import { build } from 'hdr-histogram-js'
import { gatewayAddress } from '../test/utils/gateway-client.ts'
import { MeshProcess, waitUntil } from '../test/utils/mesh-process.ts'
import { buildCGenerator, openLoop, type Address, type OpenLoopGenerator, type OpenLoopRow } from './gateway-open-loop.ts'

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    runs: { type: 'string', default: '3' },
    clients: { type: 'string', default: '50' },
    depth: { type: 'string', default: '4' },
    'open-rates': { type: 'string', default: '10000,20000,30000' },
    'open-only': { type: 'boolean', default: false },
    realtime: { type: 'boolean', default: false },
    peak: { type: 'string' },
    json: { type: 'boolean', default: false }
  }
})
const seconds = Number(values.seconds)
const runs = Number(values.runs)
const clients = Number(values.clients)
const depth = Number(values.depth)
const openRates = values['open-rates'].split(',').map(Number)
if (openRates.some(r => !Number.isInteger(r) || r < 1)) throw new Error('--open-rates: whole numbers ≥ 1, comma-separated')
const openOnly = values['open-only']
/** SCHED_FIFO priorities: above every ordinary process, the generator above the gateway, the idle probe above both. */
const realtimeAt = (priority: number): string[] => values.realtime ? ['chrt', '-f', String(priority)] : []
const GATEWAY_PRIORITY = 10
// A real-time process that saturates a core leaves the machine 5% of it: only the open loops
// (under a core each) may run so.
if (values.realtime && !openOnly) throw new Error('--realtime goes with --open-only')
const givenPeak = values.peak != null ? Number(values.peak) : undefined
if (givenPeak != null && (!openOnly || !Number.isInteger(givenPeak) || givenPeak < 2)) throw new Error('--peak: a whole number of requests/s, with --open-only')
/** Every thread of a process to ordinary scheduling, or back to SCHED_FIFO at `priority`. */
const schedule = (pid: number, priority: number | 'ordinary'): void => {
  execFileSync('chrt', priority === 'ordinary' ? ['-a', '-o', '-p', '0', String(pid)] : ['-a', '-f', '-p', String(priority), String(pid)], { stdio: 'ignore' })
}
const LOOPBACK = ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0']
const PYTHON_SERVER = fileURLToPath(new URL('./gateway-python-server.py', import.meta.url))
const HALF_PEAK_P99_TARGET_MS = 2
const progress = (line: string): void => { process.stderr.write(`${line}\n`) }

interface Load { rps: number, p50: number, p99: number, errors: number, answers: number }
/** CPU ms a process's threads have run: its pool's worker threads (`mesh-worker`) and the rest. */
function threadCpuMs (pid: number): { workers: number, rest: number } {
  const out = { workers: 0, rest: 0 }
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const ms = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6
      if (readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() === 'mesh-worker') out.workers += ms
      else out.rest += ms
    } catch {} // a thread that ended meanwhile
  }
  return out
}

/** Where the CPU of one count went, in ms per answer: worker threads, the nodes' other threads, the generator (this process). */
interface CountCpu { workers: number, nodes: number, generator: number }

async function measuredLoad (pids: number[], address: Address, line: string, secs: number): Promise<{ load: Load, cpu: CountCpu }> {
  const sum = (): { workers: number, rest: number } => pids.map(threadCpuMs).reduce((a, b) => ({ workers: a.workers + b.workers, rest: a.rest + b.rest }))
  const before = sum()
  const generatorBefore = process.cpuUsage()
  const result = await load(address, line, secs)
  const after = sum()
  const generator = process.cpuUsage(generatorBefore)
  const per = (ms: number): number => ms / Math.max(1, result.answers)
  return { load: result, cpu: { workers: per(after.workers - before.workers), nodes: per(after.rest - before.rest), generator: per((generator.user + generator.system) / 1000) } }
}

/** Pins every thread of a process to these cores (taskset -a). */
function pin (pid: number, cores: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cores, String(pid)], { stdio: 'ignore' })
}

/** `clients` connections, each with `depth` copies of `line` in flight, for `secs` seconds. */
async function load (address: Address, line: string, secs: number): Promise<Load> {
  const h = build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 })
  let answers = 0
  let errors = 0
  const bytes = Buffer.from(line + '\n')
  const started = performance.now()
  const until = started + secs * 1000
  await Promise.all(Array.from({ length: clients }, async () => {
    const socket = connect(address)
    socket.setNoDelay(true)
    await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
    const sentAt: number[] = []
    let head = 0
    let buffered = ''
    await new Promise<void>(resolve => {
      const send = (): void => { sentAt.push(performance.now()); socket.write(bytes) }
      socket.setEncoding('utf8')
      socket.on('data', (text: string) => {
        buffered += text
        for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
          const answer = buffered.slice(0, i)
          buffered = buffered.slice(i + 1)
          const now = performance.now()
          h.recordValue(Math.max(1, Math.round((now - sentAt[head++]) * 1000)))
          answers++
          // Python's json.dumps puts a space after the colon.
          if (!/^\{"ok": ?true/.test(answer)) errors++
          if (now < until) send()
          else if (head === sentAt.length) { socket.destroy(); resolve() }
        }
      })
      socket.on('error', () => { resolve() })
      for (let i = 0; i < depth; i++) send()
    })
  }))
  const elapsed = (performance.now() - started) / 1000
  const result = { rps: Math.round(answers / elapsed), p50: h.getValueAtPercentile(50) / 1000, p99: h.getValueAtPercentile(99) / 1000, errors, answers }
  h.destroy()
  return result
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

async function startPython (): Promise<{ address: Address, stop: () => void }> {
  // Its own process group, so that stopping it stops its pool's processes too.
  const child = spawn('python3', [PYTHON_SERVER, '0'], { stdio: ['ignore', 'pipe', 'inherit'], detached: true })
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.setEncoding('utf8')
    let text = ''
    child.stdout.on('data', (chunk: string) => {
      text += chunk
      const port = /ready (\d+)\n/.exec(text)?.[1]
      if (port != null) resolve(Number(port))
    })
    child.once('exit', code => { reject(new Error(`the Python server exited with ${code}`)) })
  })
  return { address: { host: '127.0.0.1', port }, stop: () => { process.kill(-(child.pid as number), 'SIGKILL') } }
}

const cDir = await mkdtemp(join(tmpdir(), 'mesh-bench-gateway-'))
const cBinary = buildCGenerator(cDir)
const GENERATORS: OpenLoopGenerator[] = ['c', 'mesh']
const generatorName = (g: OpenLoopGenerator): string => g === 'c' ? 'C epoll' : 'mesh loadtest'

const cpu = execFileSync('sh', ['-c', "lscpu | grep 'Model name' | sed 's/Model name: *//'"]).toString().trim()
progress(`CPU: ${cpu}; load average at start ${loadavg().map(x => x.toFixed(2)).join(' ')}`)

// Under --realtime this process above them all: its idle probe then measures the machine's
// own stalls, not a wait behind the gateway or the generator.
if (values.realtime) {
  try {
    execFileSync('chrt', ['-a', '-f', '-p', String(GATEWAY_PRIORITY + 2), String(process.pid)], { stdio: 'ignore' })
  } catch {
    throw new Error('--realtime needs chrt (util-linux) and the right to use SCHED_FIFO (root, or CAP_SYS_NICE)')
  }
}

// Two meshes: a node with a worker per core (as the Python server has a process per core)
// against the baseline, and a node of one worker, alone or with a second, for the scaling.
// The first serves HTTP too, for its /metrics (its collections during the open loops).
const gateway = await MeshProcess.start({ name: 'gw', args: [...LOOPBACK, '--gateway', '0', '--http', '0'], prefix: realtimeAt(GATEWAY_PRIORITY) })
const ours = await gatewayAddress(gateway)
const oursHttp = await gatewayAddress(gateway, 'http')
const metricsUrl = `http://${oursHttp.host}:${oursHttp.port}/metrics`
const scaling = openOnly ? undefined : await MeshProcess.start({ name: 'gw1', args: [...LOOPBACK, '--gateway', '0', '--workers', '1'] })
const oursOneWorker = scaling != null ? await gatewayAddress(scaling) : undefined
const python = openOnly ? undefined : await startPython()
const workerHome = await mkdtemp(join(tmpdir(), 'mesh-bench-w2-'))
const results: Record<string, Load[]> = {}
let halfPeakRate: number | undefined
const halfPeakRows: Record<OpenLoopGenerator, OpenLoopRow[]> = { c: [], mesh: [] }
let halfPeakPinned: OpenLoopRow | undefined
const openRows: Record<string, OpenLoopRow[]> = {}
const countCpu: CountCpu[] = []
const countCpuTwo: CountCpu[] = []
const record = (name: string, r: Load): void => {
  results[name] ??= []
  results[name].push(r)
  progress(`  ${name}: ${r.rps} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms${r.errors > 0 ? `, ${r.errors} errors` : ''}`)
}
const openRow = (label: string, o: OpenLoopRow): string => {
  const g = o.gateway
  return `  ${label}${generatorName(o.generator)} ${o.rate}/s: ${o.rps} answered/s${o.errors > 0 ? ` (${o.errors} lost)` : ''}, p50 ${o.p50.toFixed(2)} ms, p99 ${o.p99.toFixed(2)} ms, p99.9 ${o.p999.toFixed(2)} ms, max ${o.max.toFixed(1)} ms; ` +
    `generator late p99 ${o.generatorP99.toFixed(2)} ms${o.generatorCpuPercent != null ? `, its CPU ${o.generatorCpuPercent.toFixed(0)}%` : ''}; idle process lost ${o.idleLostPercent.toFixed(2)}% (longest ${o.idleMax.toFixed(1)} ms)` +
    (g != null ? `; gateway ${g.scavengesPerS.toFixed(0)} scavenges/s of ${g.scavengeMeanMs.toFixed(2)} ms (${g.scavengesOver1Ms} over 1 ms, ${g.scavengesOver10Ms} over 10 ms), its loop late p99 ${g.loopP99.toFixed(1)} ms` : '')
}
const gatewayOptions = { seconds, clients, metricsUrl }
const withGenerator = (g: OpenLoopGenerator): { cBinary?: string } => g === 'c' ? { cBinary } : {}

try {
  if (scaling != null && oursOneWorker != null && python != null) {
    progress('warming up')
    for (const line of ['prime 104729', 'echo x', 'count 1 100000']) {
      await load(ours, line, 1)
      await load(python.address, line, 1)
    }
    await load(oursOneWorker, 'count 1 1e7', 1)
    for (let run = 1; run <= runs; run++) {
      progress(`run ${run} of ${runs}`)
      for (const line of ['prime 104729', 'echo x', 'count 1 100000']) {
        record(`ours ${line}`, await load(ours, line, seconds))
        record(`python ${line}`, await load(python.address, line, seconds))
      }
      const one = await measuredLoad([scaling.pid], oursOneWorker, 'count 1 1e7', seconds)
      record('ours count 1 1e7, 1 worker peer', one.load)
      countCpu.push(one.cpu)
      const worker = await MeshProcess.start({ name: 'w2', home: workerHome, args: [...LOOPBACK, '--workers', '1'], bootstrap: [scaling.bootstrapAddr] })
      await waitUntil('the gateway to see the second worker peer', async () => {
        const { members } = await scaling.peers()
        return members.some(m => m.id === worker.id && m.state === 'alive' && m.services.includes('primes.count'))
      }, 20_000)
      // Warm the newcomer's worker (its sieve module, its JIT) before measuring.
      await load(oursOneWorker, 'count 1 1e7', 1)
      const two = await measuredLoad([scaling.pid, worker.pid], oursOneWorker, 'count 1 1e7', seconds)
      record('ours count 1 1e7, 2 worker peers', two.load)
      countCpuTwo.push(two.cpu)
      worker.signal('SIGTERM')
      await worker.waitForExit()
      await waitUntil('the gateway to see the second worker gone', async () => (await scaling.peers()).members.every(m => m.id !== worker.id || m.state !== 'alive'), 20_000)
    }
  } else if (givenPeak == null) {
    // The pipelined load saturates a core: under --realtime that would starve the machine,
    // so the gateway and this process measure it under ordinary scheduling.
    if (values.realtime) { schedule(gateway.pid, 'ordinary'); schedule(process.pid, 'ordinary') }
    try {
      progress('warming up')
      await load(ours, 'prime 104729', 1)
      for (let run = 1; run <= runs; run++) {
        record('ours prime 104729', await load(ours, 'prime 104729', seconds))
      }
    } finally {
      if (values.realtime) { schedule(gateway.pid, GATEWAY_PRIORITY); schedule(process.pid, GATEWAY_PRIORITY + 2) }
    }
  } else {
    progress('warming up')
    await load(ours, 'prime 104729', 1)
  }
  // Open loop at half the peak rate: latency counted from each request's scheduled time, as
  // wrk2 does, so a stall is not hidden by the generator waiting on it.
  halfPeakRate = Math.max(1, Math.round((givenPeak ?? median(results['ours prime 104729'].map(r => r.rps))) / 2))
  progress(`open loop: prime 104729 at ${halfPeakRate} req/s, half the peak`)
  for (let run = 1; run <= runs; run++) {
    for (const g of GENERATORS) {
      const row = await openLoop(ours, { ...gatewayOptions, ...withGenerator(g), rate: halfPeakRate, prefix: realtimeAt(GATEWAY_PRIORITY + 1) })
      halfPeakRows[g].push(row)
      progress(openRow(`half the peak, run ${run}, `, row))
    }
  }
  if (!openOnly) {
    if (availableParallelism() >= 2) {
      progress('open loop again: the generator pinned to core 0, the gateway node to core 1')
      pin(gateway.pid, '1')
      try {
        halfPeakPinned = await openLoop(ours, { ...gatewayOptions, rate: halfPeakRate, prefix: ['taskset', '-c', '0'] })
        progress(openRow('', halfPeakPinned))
      } finally {
        pin(gateway.pid, `0-${availableParallelism() - 1}`)
      }
    }
  }
  // The tail at fixed rates, the rates and the generators alternated run by run.
  for (let run = 1; run <= runs; run++) {
    for (const rate of openRates) {
      for (const g of GENERATORS) {
        const row = await openLoop(ours, { ...gatewayOptions, ...withGenerator(g), rate, prefix: realtimeAt(GATEWAY_PRIORITY + 1) })
        openRows[`${g} ${rate}`] ??= []
        openRows[`${g} ${rate}`].push(row)
        progress(openRow(`open loop run ${run}, `, row))
      }
    }
  }
} finally {
  rmSync(cDir, { recursive: true, force: true })
  python?.stop()
  await Promise.all([gateway.destroy(), scaling?.destroy()])
}

const summary = Object.fromEntries(Object.entries(results).map(([name, rs]) => [name, {
  rps: median(rs.map(r => r.rps)), p50: median(rs.map(r => r.p50)), p99: median(rs.map(r => r.p99)), errors: rs.reduce((a, r) => a + r.errors, 0), runs: rs.map(r => r.rps)
}]))
const ratio = (a: string, b: string): number => summary[a] == null ? NaN : Math.round(summary[a].rps / summary[b].rps * 100) / 100
const targets = openOnly
  ? {}
  : {
      prime: { ratio: ratio('ours prime 104729', 'python prime 104729'), target: 10 },
      count: { ratio: ratio('ours count 1 100000', 'python count 1 100000'), target: 100 },
      scaling: { ratio: ratio('ours count 1 1e7, 2 worker peers', 'ours count 1 1e7, 1 worker peer'), target: 1.7 }
    }
const load1 = loadavg()[0].toFixed(2)
// Can two worker peers beat one on this machine at all? One peer is bound by its worker
// thread (W ms a count) while the rest (R: gateway, peer, generator) fits on the other core;
// two peers on C cores do at most C / (W + R) counts a ms. The bound is C·W / (W + R) / 1
// against one, whatever the other load on the machine.
const medianCpu = (xs: CountCpu[]): CountCpu => ({ workers: median(xs.map(x => x.workers)), nodes: median(xs.map(x => x.nodes)), generator: median(xs.map(x => x.generator)) })
const cpuOne = countCpu.length > 0 ? medianCpu(countCpu) : undefined
const cpuTwo = countCpuTwo.length > 0 ? medianCpu(countCpuTwo) : undefined
const scalingBound = cpuTwo == null ? undefined : Math.round(availableParallelism() * cpuTwo.workers / (cpuTwo.workers + cpuTwo.nodes + cpuTwo.generator) * 100) / 100
/** Of several runs: the one with the median p99, and every run's p99. */
const medianRun = (runsOf: OpenLoopRow[]): { median: OpenLoopRow | undefined, p99s: number[] } => {
  const sorted = [...runsOf].sort((a, b) => a.p99 - b.p99)
  return { median: sorted[Math.floor(sorted.length / 2)], p99s: runsOf.map(r => r.p99) }
}
const openLoops = openRates.flatMap(rate => GENERATORS.map(generator => ({ rate, generator, ...medianRun(openRows[`${generator} ${rate}`] ?? []) })))
/** The target: p99 at half the peak, by the C generator (the median of its runs); mesh loadtest's beside it. */
const halfPeak = { rate: halfPeakRate, c: medianRun(halfPeakRows.c), mesh: medianRun(halfPeakRows.mesh) }
const halfPeakMet = halfPeak.c.median != null && halfPeak.c.median.errors === 0 && halfPeak.c.median.rps >= halfPeak.c.median.rate * 0.98 && halfPeak.c.median.p99 <= HALF_PEAK_P99_TARGET_MS
const scheduling = values.realtime ? `gateway node under chrt -f ${GATEWAY_PRIORITY}, generator -f ${GATEWAY_PRIORITY + 1}, bench -f ${GATEWAY_PRIORITY + 2}` : 'ordinary scheduling'
const openTableRow = (label: string, o: OpenLoopRow, p99s: number[]): string => {
  const g = o.gateway
  return `| ${label} | ${generatorName(o.generator)} | ${o.rps}${o.errors > 0 ? ` (${o.errors} lost)` : ''} | ${o.p50.toFixed(2)} ms | ${o.p99.toFixed(2)} ms | ${o.p999.toFixed(2)} ms | ${p99s.map(x => x.toFixed(2)).join(', ')} | ` +
    `${o.generatorP99.toFixed(2)} ms${o.generatorCpuPercent != null ? `, CPU ${o.generatorCpuPercent.toFixed(0)}%` : ''} | ` +
    `${g == null ? '-' : `${g.scavengesPerS.toFixed(0)}/s, mean ${g.scavengeMeanMs.toFixed(2)} ms, ${g.scavengesOver1Ms} over 1 ms`} | ${o.idleLostPercent.toFixed(2)}%, longest ${o.idleMax.toFixed(1)} ms |\n`
}
const verdict = halfPeak.c.median == null
  ? 'not measured'
  : `prime 104729 at half the peak (${halfPeak.rate} req/s, the peak ${givenPeak != null ? `given as ${givenPeak}` : `${halfPeak.rate != null ? halfPeak.rate * 2 : '-'} pipelined`}), open loop, C generator: p99 ${halfPeak.c.median.p99.toFixed(2)} ms ` +
    `(runs ${halfPeak.c.p99s.map(x => x.toFixed(2)).join(', ')}), ${halfPeak.c.median.rps} answered/s; target p99 ≤ ${HALF_PEAK_P99_TARGET_MS} ms: ${halfPeakMet ? 'MET' : 'NOT MET'}` +
    (halfPeak.mesh.median != null ? ` (by mesh loadtest: p99 ${halfPeak.mesh.median.p99.toFixed(2)} ms, ${halfPeak.mesh.median.rps} answered/s)` : '')
if (values.json === true) {
  process.stdout.write(JSON.stringify({ cpu, loadAverage: load1, clients, depth, seconds, runs, scheduling, summary, targets, halfPeak: { ...halfPeak, met: halfPeakMet, targetP99Ms: HALF_PEAK_P99_TARGET_MS }, halfPeakPinned, openLoops, countCpu: { onePeer: cpuOne, twoPeers: cpuTwo, scalingBound } }, null, 2) + '\n')
} else {
  process.stdout.write(`\n${clients} clients, ${depth} requests in flight each, ${seconds} s per run, medians of ${runs} runs; ${cpu}, load average ${load1}\n\n`)
  process.stdout.write('| requests | server | req/s | p50 | p99 | runs (req/s) |\n|---|---|---|---|---|---|\n')
  for (const [name, s] of Object.entries(summary)) {
    const [server, ...rest] = name.split(' ')
    process.stdout.write(`| \`${rest.join(' ')}\` | ${server} | ${s.rps} | ${s.p50.toFixed(2)} ms | ${s.p99.toFixed(2)} ms | ${s.runs.join(', ')} |\n`)
  }
  if (!openOnly) {
    for (const [name, t] of Object.entries(targets)) process.stdout.write(`\n${name}: ${t.ratio}x (target ≥ ${t.target}x)`)
    const ms = (c: CountCpu | undefined): string => c == null ? '-' : `${c.workers.toFixed(2)} ms in worker threads, ${c.nodes.toFixed(2)} ms in the nodes' other threads, ${c.generator.toFixed(2)} ms in the generator`
    process.stdout.write(`\n  CPU per count 1 1e7: one peer ${ms(cpuOne)}; two peers ${ms(cpuTwo)}; so two peers on ${availableParallelism()} cores can do at most ${scalingBound ?? '-'}x one\n`)
    if (halfPeakPinned != null) process.stdout.write(`prime 104729 open loop, half the peak, generator on core 0, gateway node on core 1:\n${openRow('', halfPeakPinned)}\n`)
  }
  process.stdout.write(`\n\`prime 104729\` in an open loop, one request per write, ${clients} clients, ${scheduling}; the run with the median p99 of ${runs}:\n\n`)
  process.stdout.write('| rate | generator | answered/s | p50 | p99 | p99.9 | p99 of each run | generator late p99 | gateway scavenges | idle process lost |\n|---|---|---|---|---|---|---|---|---|---|\n')
  for (const g of GENERATORS) {
    const { median: o, p99s } = halfPeak[g]
    if (o != null) process.stdout.write(openTableRow(`${o.rate} (half the peak)`, o, p99s))
  }
  for (const { rate, median: o, p99s } of openLoops) {
    if (o != null) process.stdout.write(openTableRow(String(rate), o, p99s))
  }
  process.stdout.write(`\n${verdict}\n`)
}
if (Object.values(targets).some(t => !(t.ratio >= t.target)) || !halfPeakMet) process.exitCode = 1
