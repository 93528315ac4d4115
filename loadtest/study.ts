/**
 * The concurrency study's parts that `mesh loadtest --study` and `npm run bench:echo` share:
 * its loads, its original figures, starting a server process and waiting for its listening
 * line, and the table that shows the results model by load.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { checkoutFile } from '../node/script-entry.ts'
import { ECHO_MODELS, type EchoModel } from './echo/constants.ts'
import type { ErrorCounts } from './generator/error-kinds.ts'

/** The study's message size. */
export const STUDY_MESSAGE_BYTES = 32

export interface StudyLoad { clients: number, messages: number, kind: 'study' | 'sustained' }

/** The study's two loads (N clients x M messages each), then two sustained ones. */
export const STUDY_LOADS: readonly StudyLoad[] = [
  { clients: 100, messages: 10, kind: 'study' },
  { clients: 1000, messages: 10, kind: 'study' },
  { clients: 50, messages: 2000, kind: 'sustained' },
  { clients: 500, messages: 200, kind: 'sustained' }
]

/** `--quick`: the same shapes a tenth or less as large, a few seconds per model. */
export const QUICK_LOADS: readonly StudyLoad[] = [
  { clients: 10, messages: 10, kind: 'study' },
  { clients: 100, messages: 10, kind: 'study' },
  { clients: 5, messages: 200, kind: 'sustained' },
  { clients: 50, messages: 20, kind: 'sustained' }
]

export const loadLabel = (load: { clients: number, messages: number }): string =>
  `${load.clients.toLocaleString('en-US')} x ${load.messages.toLocaleString('en-US')}`

/**
 * A process per connection starts a whole Node for each one (tens of ms, far more with dozens
 * at once): 500 connections or more would wait, unread, past the generator's answer timeout,
 * so that model meets only the lighter loads.
 */
export const FORK_MAX_CLIENTS = 499
export const FORK_SKIP_NOTE = 'skipped: a Node start-up per connection; 500 or more would outlast the answer timeout'

export function skipReason (model: string, load: StudyLoad): string | null {
  return model === 'fork' && load.clients > FORK_MAX_CLIENTS ? FORK_SKIP_NOTE : null
}

/**
 * The study's own requests/s (a Python generator, its bottleneck), for the model of ours
 * built the same way: forked = fork, multithread = threads, event loop = event.
 */
const STUDY_FIGURES: ReadonlyArray<{ model: EchoModel, clients: number, messages: number, rps: number, approximate: boolean }> = [
  { model: 'fork', clients: 100, messages: 10, rps: 1554, approximate: false },
  { model: 'threads', clients: 100, messages: 10, rps: 1694, approximate: false },
  { model: 'event', clients: 100, messages: 10, rps: 2778, approximate: false },
  { model: 'fork', clients: 1000, messages: 10, rps: 750, approximate: true },
  { model: 'threads', clients: 1000, messages: 10, rps: 1250, approximate: true },
  { model: 'event', clients: 1000, messages: 10, rps: 2600, approximate: true }
]

export interface StudyFigure { rps: number, approximate: boolean }

export function studyFigure (model: string, load: { clients: number, messages: number }): StudyFigure | null {
  const f = STUDY_FIGURES.find(s => s.model === model && s.clients === load.clients && s.messages === load.messages)
  return f == null ? null : { rps: f.rps, approximate: f.approximate }
}

export function parseModels (list: string): EchoModel[] {
  const models = list.split(',').map(m => m.trim()).filter(m => m !== '')
  if (models.length === 0) throw new UnknownModelError(`--models needs one or more of ${ECHO_MODELS.join(', ')}`)
  for (const m of models) {
    if (!(ECHO_MODELS as readonly string[]).includes(m)) throw new UnknownModelError(`--models: unknown model "${m}", expected some of ${ECHO_MODELS.join(', ')}`)
  }
  return [...new Set(models)] as EchoModel[]
}

export class UnknownModelError extends Error {
  override name = 'UnknownModelError'
}

export class ServerStartError extends Error {
  override name = 'ServerStartError'
}

/** A server process started by the study, listening. */
export interface StudyServer {
  child: ChildProcess
  pid: number
  port: number
  /** SIGTERM (a `mesh echo` then stops its children), SIGKILL if it lingers; resolves once it exited. */
  stop: () => Promise<void>
}

/** How long a server gets to print its listening line: a Node start-up on a busy machine. */
const LISTEN_TIMEOUT_MS = 30_000
/** How long a stopping server gets to stop its children and exit before SIGKILL. */
const STOP_TIMEOUT_MS = 5_000

/** `mesh echo` on a free loopback port, printing its listening line as JSON. */
export function meshEchoCommand (model: EchoModel): [string, string[]] {
  return [process.execPath, [fileURLToPath(checkoutFile('cli/mesh.js')), 'echo', '--port', '0', '--model', model, '--json']]
}

/**
 * Starts a server that prints its port first (a number, or a `mesh echo --json` line) and
 * waits for that line. `track` sees the child at once, so that whoever stops everything on
 * Ctrl-C knows of a server still starting.
 */
export async function startServerProcess (command: string, args: string[], track?: (child: ChildProcess) => void): Promise<StudyServer> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  track?.(child)
  const exited = new Promise<void>(resolve => {
    if (child.exitCode != null || child.signalCode != null) resolve()
    else child.once('exit', () => { resolve() })
  })
  const stop = async (): Promise<void> => {
    if (child.exitCode == null && child.signalCode == null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
      await exited
      clearTimeout(timer)
    }
  }
  try {
    const first = await new Promise<string>((resolve, reject) => {
      let text = ''
      const timer = setTimeout(() => { reject(new ServerStartError(`${command} ${args.join(' ')} printed no listening line in ${LISTEN_TIMEOUT_MS / 1000} s`)) }, LISTEN_TIMEOUT_MS)
      child.stdout.on('data', (d: Buffer) => {
        text += d.toString()
        const newline = text.indexOf('\n')
        if (newline >= 0) { clearTimeout(timer); resolve(text.slice(0, newline)) }
      })
      child.once('exit', code => { clearTimeout(timer); reject(new ServerStartError(`${command} ${args.join(' ')} exited with ${code} before listening`)) })
    })
    // Later output is not read by anyone: keep the pipe drained.
    child.stdout.resume()
    const port = first.startsWith('{') ? Number(JSON.parse(first).port) : Number(first)
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ServerStartError(`${command}: no port in its first line`)
    return { child, pid: child.pid as number, port, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

/** One cell's figures: latency in µs, memory in MB. */
export interface StudyFigures { rps: number, p50: number, p99: number, cpuPercent: number, peakRssMb: number, errors: number }

export function totalOf (errors: ErrorCounts | Record<string, number>): number {
  return Object.values(errors).reduce((a, b) => a + b, 0)
}

export interface StudyTableRow {
  server: string
  load: string
  /** Shown in a generator column when any row has one. */
  generator?: string
  figures: StudyFigures | null
  study?: StudyFigure | null
  /** Why there are no figures (skipped, timed out). */
  note?: string
}

const ms = (us: number): string => (us / 1000).toFixed(us < 10_000 ? 2 : 0)
const rate = (n: number): string => n.toLocaleString('en-US')

/** The study's table as Markdown, model by load, the study's own figures beside ours. */
export function formatStudyTable (rows: StudyTableRow[]): string[] {
  const withGenerator = rows.some(r => r.generator != null)
  const head = ['server', 'load', ...(withGenerator ? ['generator'] : []), 'requests/s', 'the study', 'p50 ms', 'p99 ms', 'server CPU', 'server memory']
  const out = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`]
  for (const r of rows) {
    const f = r.figures
    const study = r.study == null ? '' : `${r.study.approximate ? '~' : ''}${rate(r.study.rps)}`
    const cells = [r.server, r.load, ...(withGenerator ? [r.generator ?? ''] : []),
      f == null ? (r.note ?? 'no figures') : `${rate(f.rps)}${f.errors > 0 ? ` (${f.errors} errors)` : ''}`,
      study,
      f == null ? '' : ms(f.p50),
      f == null ? '' : ms(f.p99),
      f == null ? '' : `${f.cpuPercent}%`,
      f == null ? '' : `${f.peakRssMb} MB`]
    out.push(`| ${cells.join(' | ')} |`)
  }
  return out
}
