import type { ChildProcess } from 'node:child_process'
import { cpus, loadavg } from 'node:os'
import cliProgress from 'cli-progress'
import { ECHO_MODELS, type EchoModel } from '../../loadtest/echo/constants.ts'
import { DEFAULT_TIMEOUT_MS } from '../../loadtest/generator/options.ts'
import type { ErrorCounts } from '../../loadtest/generator/error-kinds.ts'
import type { LoadProgress, LoadTestResult } from '../../loadtest/generator/run-load-test.ts'
import { ProcUsageSampler, type ServerUsage } from '../../loadtest/proc-usage.ts'
import {
  FORK_SKIP_NOTE, QUICK_LOADS, STUDY_LOADS, STUDY_MESSAGE_BYTES, ServerStartError, formatStudyTable, loadLabel,
  meshEchoCommand, parseModels, skipReason, startServerProcess, studyFigure, totalOf,
  type StudyFigure, type StudyLoad, type StudyServer, type StudyTableRow, UnknownModelError
} from '../../loadtest/study.ts'
import { UsageError, WorkFailedError } from '../errors.ts'
import { printJson } from '../output.ts'

export interface StudyFlags { models?: string, quick?: boolean, json?: boolean }

/** One model under one load; every figure null where the cell was skipped. */
export interface StudyCell {
  clients: number
  messages: number
  /** Messages answered right, and sent, over all clients. */
  answered: number | null
  sent: number | null
  seconds: number | null
  rps: number | null
  latencyUs: { p50: number, p99: number } | null
  cpuPercent: number | null
  peakRssMb: number | null
  errors: ErrorCounts | null
  study: StudyFigure | null
  skipped: string | null
}

/**
 * `mesh loadtest --study`: each echo model, fresh on a free loopback port for every load (no
 * cell inherits another's memory or warm state), driven by the load generator in this
 * process. In-process rather than a `mesh loadtest` child: the same code, without a Node
 * start-up per cell (about 0.2 s), and it measured no slower (see the README).
 */
export async function runStudy (flags: StudyFlags): Promise<void> {
  let models: EchoModel[]
  try {
    models = flags.models == null ? [...ECHO_MODELS] : parseModels(flags.models)
  } catch (err) {
    if (err instanceof UnknownModelError) throw new UsageError(err.message)
    throw err
  }
  const loads = flags.quick === true ? QUICK_LOADS : STUDY_LOADS
  const { runLoadTest } = await import('../../loadtest/generator/run-load-test.ts')

  // Every server still running: stopped at the end, on an error, and on Ctrl-C.
  const live = new Set<ChildProcess>()
  const servers = new Set<StudyServer>()
  const bar = process.stderr.isTTY === true ? new StudyProgress(models.length * loads.length) : null
  const interrupted = async (signal: NodeJS.Signals): Promise<void> => {
    bar?.stop()
    await Promise.all([...servers].map(async s => { await s.stop() }))
    for (const child of live) child.kill('SIGKILL')
    process.exit(signal === 'SIGINT' ? 130 : 143)
  }
  const onSignal = (signal: NodeJS.Signals): void => { void interrupted(signal) }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  const results: Array<{ model: EchoModel, cells: StudyCell[] }> = []
  try {
    for (const model of models) {
      const cells: StudyCell[] = []
      results.push({ model, cells })
      for (const load of loads) {
        bar?.cell(`${model} ${loadLabel(load)}`)
        const skipped = skipReason(model, load)
        cells.push(skipped != null ? skippedCell(model, load, skipped) : await measureCell(model, load))
        bar?.done()
      }
    }
  } finally {
    bar?.stop()
    await Promise.all([...servers].map(async s => { await s.stop() }))
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }

  async function measureCell (model: EchoModel, load: StudyLoad): Promise<StudyCell> {
    const [command, args] = meshEchoCommand(model)
    let server: StudyServer
    try {
      server = await startServerProcess(command, args, child => { live.add(child); child.once('exit', () => live.delete(child)) })
    } catch (err) {
      if (err instanceof ServerStartError) throw new WorkFailedError(`mesh echo --model ${model}: ${err.message}`)
      throw err
    }
    servers.add(server)
    try {
      const sampler = new ProcUsageSampler(server.pid)
      sampler.start()
      let usage: ServerUsage
      let result: LoadTestResult
      try {
        result = await runLoadTest({
          host: '127.0.0.1',
          port: server.port,
          clients: load.clients,
          messages: load.messages,
          sizeMin: STUDY_MESSAGE_BYTES,
          sizeMax: STUDY_MESSAGE_BYTES,
          protocol: 'echo',
          request: '',
          timeoutMs: DEFAULT_TIMEOUT_MS
        }, bar == null ? undefined : p => { bar.progress(p) })
      } finally {
        usage = sampler.stop()
      }
      return {
        clients: load.clients,
        messages: load.messages,
        answered: result.messages,
        sent: result.sent,
        seconds: result.seconds,
        rps: result.rps,
        latencyUs: { p50: result.latencyUs.p50, p99: result.latencyUs.p99 },
        cpuPercent: usage.cpuPercent,
        peakRssMb: usage.peakRssMb,
        errors: result.errors,
        study: studyFigure(model, load),
        skipped: null
      }
    } finally {
      await server.stop()
      servers.delete(server)
    }
  }

  const report = {
    quick: flags.quick === true,
    messageBytes: STUDY_MESSAGE_BYTES,
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    loadavg1: Math.round(loadavg()[0] * 100) / 100,
    loads: loads.map(l => ({ clients: l.clients, messages: l.messages, kind: l.kind })),
    models: results
  }
  if (flags.json === true) printJson(report)
  else process.stdout.write(describeStudy(report))
  // A cell without a single answer: that server did not serve; say so in the exit code too.
  if (results.some(r => r.cells.some(c => c.skipped == null && c.answered === 0))) process.exitCode = 1
}

function skippedCell (model: EchoModel, load: StudyLoad, reason: string): StudyCell {
  return { clients: load.clients, messages: load.messages, answered: null, sent: null, seconds: null, rps: null, latencyUs: null, cpuPercent: null, peakRssMb: null, errors: null, study: studyFigure(model, load), skipped: reason }
}

function describeStudy (r: { quick: boolean, cpus: number, cpu: string, loadavg1: number, models: Array<{ model: EchoModel, cells: StudyCell[] }> }): string {
  const rows: StudyTableRow[] = r.models.flatMap(({ model, cells }) => cells.map(c => ({
    server: `mesh echo ${model}`,
    load: loadLabel(c),
    figures: c.rps == null
      ? null
      : { rps: c.rps, p50: c.latencyUs?.p50 ?? 0, p99: c.latencyUs?.p99 ?? 0, cpuPercent: c.cpuPercent ?? 0, peakRssMb: c.peakRssMb ?? 0, errors: totalOf(c.errors ?? {}) },
    study: c.study,
    note: c.skipped != null ? 'skipped¹' : undefined
  })))
  const lines = [
    `the concurrency study${r.quick ? ' (--quick: smaller loads)' : ''}: echo servers on loopback, ${STUDY_MESSAGE_BYTES}-byte messages, closed loop, mesh's load generator`,
    `${r.cpus} x ${r.cpu}, load ${r.loadavg1} at the end`,
    '',
    ...formatStudyTable(rows),
    '',
    '"the study": its own requests/s (forked, multithread, event loop; a Python generator, its bottleneck)'
  ]
  if (rows.some(row => row.note != null)) lines.push(`¹ ${FORK_SKIP_NOTE}`)
  return lines.join('\n') + '\n'
}

/** The progress line on stderr (at a terminal only): cells done, the current one's answers and rate. */
class StudyProgress {
  private readonly bar: cliProgress.SingleBar
  private value = 0
  private current = ''

  constructor (total: number) {
    this.bar = new cliProgress.SingleBar({
      stream: process.stderr,
      format: 'study {bar} {value}/{total} cells | {cell} | {answered} answers, {rps} req/s, {errors} errors',
      hideCursor: true,
      clearOnComplete: true
    }, cliProgress.Presets.shades_classic)
    this.bar.start(total, 0, { cell: '', answered: 0, rps: 0, errors: 0 })
  }

  cell (name: string): void {
    this.current = name
    this.bar.update(this.value, { cell: name, answered: 0, rps: 0, errors: 0 })
  }

  progress (p: LoadProgress): void {
    this.bar.update(this.value, { cell: this.current, answered: p.answered, rps: p.elapsedS > 0 ? Math.round(p.answered / p.elapsedS) : 0, errors: p.errors })
  }

  done (): void {
    this.value++
    this.bar.update(this.value)
  }

  stop (): void {
    this.bar.stop()
  }
}
