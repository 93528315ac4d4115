/**
 * The concurrency study, measured: echo servers in every model under the loads of an earlier
 * comparison of a process per client, a thread per client and one event loop ("the study").
 *
 *   npm run bench:echo -- [--runs 3] [--models event,fork,…] [--json]
 *
 * Servers: `mesh echo` in its four models; a bare node:net echo server (bench/echo-bare.ts,
 * the ceiling for Node); where python3 exists, the study's own styles (bench/echo_*.py:
 * asyncio, a thread per client, a process per client). Generators: a closed-loop epoll
 * generator in C (bench/echo-load.c, compiled with cc here; the reference) and
 * `mesh loadtest`, both driving the same servers. Loads: the study's 100 x 10 and
 * 1,000 x 10, and the sustained 50 x 2,000 and 500 x 200, 32-byte messages.
 *
 * First the targets, alternately, `--runs` times (medians), servers on core 0 and
 * generators on core 1: event model / bare Node and event model / asyncio under the C
 * generator, and mesh loadtest / C against the event model, all at 50 x 2,000. Then (unless
 * `--targets-only`) the table, one run per cell, nothing pinned. A process per connection in
 * Node costs a Node start-up each, so that model meets the two heavy loads (500 and 1,000
 * connections) from the C generator only, to keep the run to a few minutes.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { ProcUsageSampler } from '../loadtest/proc-usage.ts'
import { ECHO_MODELS, type EchoModel } from '../loadtest/echo/constants.ts'
import { STUDY_LOADS, STUDY_MESSAGE_BYTES, formatStudyTable, loadLabel, meshEchoCommand, skipReason, startServerProcess, studyFigure, totalOf, type StudyFigure, type StudyFigures, type StudyServer } from '../loadtest/study.ts'

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url))
const MESH = here('../cli/mesh.ts')
const MESSAGE_BYTES = STUDY_MESSAGE_BYTES
/** A run that takes longer than this is stopped and shown as such. */
const RUN_TIMEOUT_MS = 120_000
const TARGET_LOAD = { clients: 50, messages: 2000 }

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    'targets-only': { type: 'boolean', default: false },
    models: { type: 'string' },
    json: { type: 'boolean', default: false }
  }
})
const runs = Number(values.runs)
if (!Number.isInteger(runs) || runs < 1 || runs > 20) throw new Error('--runs must be from 1 to 20')

type Running = StudyServer
type Figures = StudyFigures

const log = (line: string): void => { process.stderr.write(line + '\n') }

/** Every process this bench started and has not stopped: killed if the bench is interrupted. */
const live = new Set<ChildProcess>()
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of live) child.kill('SIGKILL')
    process.exit(130)
  })
}

function track (child: ChildProcess): void {
  live.add(child)
  child.once('exit', () => live.delete(child))
}

/**
 * The targets compare one-loop servers, so there the server runs on core 0 and the generator
 * on core 1 (taskset execs the command: same pid): neither steals the other's core, and the
 * ratios do not depend on where the scheduler happened to put them.
 */
const hasTaskset = (() => { try { execFileSync('taskset', ['-c', '0', 'true']); return true } catch { return false } })()
function pinned (core: number | null, cmd: string, args: string[]): [string, string[]] {
  return core != null && hasTaskset ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args]
}
let pinGenerator: number | null = null

/** Starts a server process that prints its port (or a `mesh echo --json` line) first. */
async function startProcess (command: string, commandArgs: string[], core: number | null = null): Promise<Running> {
  const [cmd, args] = pinned(core, command, commandArgs)
  return await startServerProcess(cmd, args, track)
}

interface ServerSpec { name: string, start: (core?: number) => Promise<Running> }
const meshEcho = (model: EchoModel): ServerSpec => ({ name: `mesh echo ${model}`, start: async (core) => await startProcess(...meshEchoCommand(model), core) })
const python = (file: string, name: string): ServerSpec => ({ name, start: async (core) => await startProcess('python3', [here(file), '0'], core) })
const BARE: ServerSpec = { name: 'bare node:net', start: async (core) => await startProcess(process.execPath, [here('./echo-bare.ts'), '0'], core) }
const ASYNCIO = python('./echo_asyncio.py', 'python asyncio')
const hasPython = (() => { try { execFileSync('python3', ['--version']); return true } catch { return false } })()

async function runJson (command: string, commandArgs: string[]): Promise<any> {
  const [cmd, args] = pinned(pinGenerator, command, commandArgs)
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  track(child)
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS)
  const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
  clearTimeout(timer)
  if (code == null) return null
  return JSON.parse(out)
}

type Generator = 'c' | 'mesh'

/** One load against one server; the server's CPU and memory sampled from /proc meanwhile. */
async function measure (generator: Generator, cBinary: string, server: Running, clients: number, messages: number): Promise<Figures | null> {
  const sampler = new ProcUsageSampler(server.pid)
  let report: any
  if (generator === 'c') {
    sampler.start()
    report = await runJson(cBinary, ['127.0.0.1', String(server.port), String(clients), String(messages), String(MESSAGE_BYTES)])
  } else {
    // mesh loadtest samples the server itself, over its own run only (not its start-up).
    report = await runJson(process.execPath, [MESH, 'loadtest', `127.0.0.1:${server.port}`, '--clients', String(clients), '--messages', String(messages), '--size', String(MESSAGE_BYTES), '--pid', String(server.pid), '--json'])
  }
  const usage = generator === 'c' ? sampler.stop() : report?.server
  if (report == null) return null
  const errors = totalOf(report.errors)
  return { rps: report.rps, p50: report.latencyUs.p50, p99: report.latencyUs.p99, cpuPercent: usage.cpuPercent, peakRssMb: usage.peakRssMb, errors }
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)] }

const workdir = mkdtempSync(join(tmpdir(), 'mesh-bench-echo-'))
const cBinary = join(workdir, 'echo-load')
execFileSync('cc', ['-O2', '-o', cBinary, here('./echo-load.c')])
const cpuName = (() => { try { return execFileSync('lscpu').toString().match(/Model name:\s*(.+)/)?.[1] ?? 'unknown' } catch { return 'unknown' } })()
log(`bench:echo on ${cpus().length} x ${cpuName}, load ${loadavg()[0].toFixed(2)}`)

try {
  // 1. The targets, alternately, medians of --runs.
  const targetServers = [BARE, meshEcho('event'), ...(hasPython ? [ASYNCIO] : [])]
  const started = await Promise.all(targetServers.map(async spec => await spec.start(0)))
  pinGenerator = 1
  const samples: Record<string, number[]> = { bare: [], event: [], asyncio: [], meshOnEvent: [] }
  try {
    for (let r = 0; r < runs; r++) {
      const { clients, messages } = TARGET_LOAD
      samples.bare.push((await measure('c', cBinary, started[0], clients, messages))?.rps ?? 0)
      samples.event.push((await measure('c', cBinary, started[1], clients, messages))?.rps ?? 0)
      samples.meshOnEvent.push((await measure('mesh', cBinary, started[1], clients, messages))?.rps ?? 0)
      if (hasPython) samples.asyncio.push((await measure('c', cBinary, started[2], clients, messages))?.rps ?? 0)
      log(`targets run ${r + 1}/${runs}: bare ${samples.bare[r]}, event ${samples.event[r]}, event by mesh loadtest ${samples.meshOnEvent[r]}${hasPython ? `, asyncio ${samples.asyncio[r]}` : ''} requests/s`)
    }
  } finally {
    await Promise.all(started.map(async s => { await s.stop() }))
    pinGenerator = null
  }
  const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, v.length > 0 ? median(v) : 0]))
  const targets = [
    { what: 'event model / bare node:net (C generator)', ratio: m.event / m.bare, target: 0.9 },
    ...(hasPython ? [{ what: 'event model / python asyncio (C generator)', ratio: m.event / m.asyncio, target: 1.2 }] : []),
    { what: 'mesh loadtest / C generator (event model)', ratio: m.meshOnEvent / m.event, target: 0.8 }
  ]

  // 2. The table: every server, every load, both generators.
  const wanted = values.models?.split(',')
  const servers: ServerSpec[] = [BARE, ...ECHO_MODELS.map(meshEcho)]
  if (hasPython) servers.push(ASYNCIO, python('./echo_threads.py', 'python thread per client'), python('./echo_fork.py', 'python process per client'))
  const rows: Array<{ server: string, load: string, generator: Generator, figures: Figures | null, study: StudyFigure | null }> = []
  for (const spec of servers.filter(s => values['targets-only'] !== true && (wanted == null || wanted.some(w => s.name.endsWith(w))))) {
    const model = spec.name.startsWith('mesh echo ') ? spec.name.slice('mesh echo '.length) : null
    for (const load of STUDY_LOADS) {
      for (const generator of ['c', 'mesh'] as const) {
        // The C generator still drives the fork model at every load: it starts nothing itself.
        if (model != null && generator === 'mesh' && skipReason(model, load) != null) continue
        // A fresh server per cell: no cell inherits another's memory or warm state.
        const server = await spec.start()
        try {
          const figures = await measure(generator, cBinary, server, load.clients, load.messages)
          rows.push({ server: spec.name, load: loadLabel(load), generator, figures, study: model == null ? null : studyFigure(model, load) })
          log(`${spec.name.padEnd(28)} ${`${load.clients} x ${load.messages}`.padEnd(10)} ${generator.padEnd(4)} ${figures == null ? 'timed out' : `${figures.rps} requests/s, p50 ${figures.p50} µs, p99 ${figures.p99} µs, CPU ${figures.cpuPercent}%, RSS ${figures.peakRssMb} MB${figures.errors > 0 ? `, ${figures.errors} errors` : ''}`}`)
        } finally {
          await server.stop()
        }
      }
    }
  }

  const report = { cpus: cpus().length, cpu: cpuName, loadavg1: Math.round(loadavg()[0] * 100) / 100, runs, medians: m, targets, rows }
  if (values.json === true) {
    process.stdout.write(JSON.stringify(report) + '\n')
  } else {
    const out = [`echo servers on loopback, ${MESSAGE_BYTES}-byte messages (${cpus().length} x ${cpuName}, load ${report.loadavg1} at the end)`, '',
      ...formatStudyTable(rows.map(r => ({ ...r, generator: r.generator === 'c' ? 'C epoll' : 'mesh loadtest', note: 'timed out' })))]
    out.push('', `targets at ${TARGET_LOAD.clients} x ${TARGET_LOAD.messages}, medians of ${runs} alternating runs:`)
    for (const t of targets) out.push(`  ${t.what}: ${t.ratio.toFixed(2)} (target ≥ ${t.target}) ${t.ratio >= t.target ? 'met' : 'NOT met'}`)
    process.stdout.write(out.join('\n') + '\n')
  }
  if (targets.some(t => t.ratio < t.target)) process.exitCode = 1
} finally {
  rmSync(workdir, { recursive: true, force: true })
}
