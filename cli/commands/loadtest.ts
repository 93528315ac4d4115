import cliProgress from 'cli-progress'
import { InvalidArgumentError, Option, type Command } from 'commander'
import { NoSuchProcessError, ProcUsageSampler, type ServerUsage } from '../../loadtest/proc-usage.ts'
import { ERROR_KINDS } from '../../loadtest/generator/error-kinds.ts'
import { DEFAULT_CLIENTS, DEFAULT_GATEWAY_REQUEST, DEFAULT_OPEN_LOOP_WARMUP_S, DEFAULT_SIZE, DEFAULT_TIMEOUT_MS, LOAD_PROTOCOLS, MAX_SIZE, type LoadProtocol, type LoadTestOptions } from '../../loadtest/generator/options.ts'
import type { LoadProgress, LoadTestResult } from '../../loadtest/generator/run-load-test.ts'
import { UsageError } from '../errors.ts'
import { homeOf, parsePositiveInt, withJson } from '../options.ts'
import type { SpreadPeer } from './loadtest-spread.ts'
import { printJson } from '../output.ts'

/** Most clients: each is a socket in this process, and the server's. */
const MAX_CLIENTS = 100_000
const MAX_RATE = 10_000_000
const MAX_DURATION_S = 86_400

interface LoadTestFlags {
  clients: number
  messages?: number
  size: [number, number]
  duration?: number
  rate?: number
  connectRate?: number
  protocol: LoadProtocol
  request: string
  timeout: number
  warmup?: number
  pid?: number
  spread?: boolean
  home?: string
  json?: boolean
  study?: boolean
  models?: string
  quick?: boolean
}

/** Flags that shape one load test; the study has its own loads, so with --study they are misuse. */
const SINGLE_TEST_FLAGS = ['clients', 'messages', 'size', 'duration', 'rate', 'connectRate', 'protocol', 'request', 'timeout', 'warmup', 'pid', 'spread', 'home'] as const

/** `mesh loadtest HOST:PORT`: the load generator, closed or open loop. */
export function registerLoadTestCommand (program: Command): void {
  withJson(program.command('loadtest [target]'))
    .description('load-test an echo server or a gateway: throughput, latency percentiles, errors, server CPU and memory; --study: the concurrency study over every echo model')
    .option('--clients <n>', 'connections', parsePositiveInt('--clients', MAX_CLIENTS), DEFAULT_CLIENTS)
    .option('--messages <m>', 'messages per client (default 100 without --duration)', parsePositiveInt('--messages', 1e9))
    .addOption(new Option('--size <bytes>', 'echo message size, or MIN-MAX for random sizes').argParser(parseSize).default([DEFAULT_SIZE, DEFAULT_SIZE], String(DEFAULT_SIZE)))
    .option('--duration <s>', 'seconds to run', parseSeconds('--duration', MAX_DURATION_S))
    .option('--rate <r>', 'open loop: total messages per second, latency from each message\'s scheduled time', parsePositiveInt('--rate', MAX_RATE))
    .option('--connect-rate <r>', 'new connections per second (default: all at once)', parsePositiveInt('--connect-rate', MAX_RATE))
    .option('--protocol <p>', `${LOAD_PROTOCOLS.join('|')}`, parseProtocol, 'echo')
    .option('--request <line>', 'gateway request line', DEFAULT_GATEWAY_REQUEST)
    .option('--timeout <s>', 'seconds to wait for an answer', parseSeconds('--timeout', 3600), DEFAULT_TIMEOUT_MS / 1000)
    .option('--warmup <s>', `seconds of the same load first, on their own connections, figures discarded (default ${DEFAULT_OPEN_LOOP_WARMUP_S} with --rate, else 0)`, parseWarmup)
    .option('--pid <pid>', 'server process to measure: CPU% and peak RSS of it and its children', parsePositiveInt('--pid', 2 ** 22))
    .option('--spread', 'run shares of the clients on the mesh peers that offer loadtest.run (through the node in --home), merge their histograms')
    .option('--home <dir>', 'with --spread: the running node\'s home (default $MESH_HOME, else ~/.mesh)')
    .option('--study', 'no target: start each echo model on a free loopback port and run the concurrency study\'s loads against it (100 x 10, 1,000 x 10, 50 x 2,000, 500 x 200)')
    .option('--models <list>', 'with --study: the models, comma-separated (default all)')
    .option('--quick', 'with --study: smaller loads, for a quick look')
    .action(async (target: string | undefined, flags: LoadTestFlags, command: Command) => {
      if (flags.study === true) {
        if (target != null) throw new UsageError('--study starts its own servers: give no target')
        const given = SINGLE_TEST_FLAGS.find(f => command.getOptionValueSource(f) === 'cli')
        if (given != null) throw new UsageError(`--study runs its own loads: --${given.replace(/[A-Z]/g, c => `-${c.toLowerCase()}`)} does not apply`)
        const { runStudy } = await import('./loadtest-study.ts')
        await runStudy(flags)
        return
      }
      if (flags.models != null || flags.quick === true) throw new UsageError(`--${flags.models != null ? 'models' : 'quick'} goes with --study`)
      if (target == null) throw new UsageError('a target HOST:PORT is needed (or --study)')
      await runLoadTestCommand(target, flags)
    })
}

async function runLoadTestCommand (target: string, flags: LoadTestFlags): Promise<void> {
  const { host, port } = parseTarget(target)
  if (flags.request.includes('\n') || flags.request.length > 4096) throw new UsageError('--request must be one line of at most 4096 characters')
  if (flags.spread === true && flags.warmup != null && flags.warmup > 0) throw new UsageError('--warmup does not apply to --spread: warm the target with a run of its own first')
  // An open loop charges a cold server's first seconds to every request queued behind them.
  const warmupS = flags.spread === true ? 0 : flags.warmup ?? (flags.rate != null ? DEFAULT_OPEN_LOOP_WARMUP_S : 0)
  const options: LoadTestOptions = {
    host,
    port,
    clients: flags.clients,
    messages: flags.messages,
    durationS: flags.duration,
    rate: flags.rate,
    connectRate: flags.connectRate,
    sizeMin: flags.size[0],
    sizeMax: flags.size[1],
    protocol: flags.protocol,
    request: flags.request,
    timeoutMs: flags.timeout * 1000,
    warmupS
  }
  const sampler = flags.pid != null ? new ProcUsageSampler(flags.pid) : null
  try {
    sampler?.start()
  } catch (err) {
    if (err instanceof NoSuchProcessError) throw new UsageError(`--pid ${flags.pid}: no such process`)
    throw err
  }
  // Loaded here, not at the top: `mesh echo` shares this program and needs no histogram (its
  // WebAssembly build alone is about 20 MB of memory).
  const { runLoadTest } = await import('../../loadtest/generator/run-load-test.ts')
  const bar = process.stderr.isTTY === true ? new ProgressLine(options) : null
  let result: LoadTestResult
  let server: ServerUsage | null = null
  let peers: SpreadPeer[] | undefined
  try {
    if (flags.spread === true) {
      const { runSpread } = await import('./loadtest-spread.ts')
      ;({ result, peers } = await runSpread(homeOf(flags), options, bar == null ? undefined : p => { bar.update(p) }))
    } else {
      result = await runLoadTest(options, bar == null ? undefined : p => { bar.update(p) })
    }
  } finally {
    bar?.stop()
    if (sampler != null) server = sampler.stop()
  }
  const report = {
    clients: result.clients,
    messages: result.messages,
    seconds: result.seconds,
    rps: result.rps,
    errors: result.errors,
    latencyUs: result.latencyUs,
    ...(result.generatorDelayUs != null ? { generatorDelayUs: result.generatorDelayUs } : {}),
    ...(result.warmup != null ? { warmup: result.warmup } : {}),
    server,
    mode: result.mode,
    sent: result.sent,
    target: `${host}:${port}`,
    ...(peers != null ? { peers } : {})
  }
  if (flags.json === true) printJson(report)
  else process.stdout.write(describe(report, options))
  // Not a single answer: the target is not serving; say so in the exit code too.
  if (result.messages === 0) process.exitCode = 1
}

type Report = Omit<LoadTestResult, 'histogram' | 'mode'> & { server: ServerUsage | null, mode: string, target: string, peers?: SpreadPeer[] }

function describe (r: Report, o: LoadTestOptions): string {
  const ms = (us: number): string => `${(us / 1000).toFixed(us < 10_000 ? 3 : 1)} ms`
  const size = o.protocol === 'gateway' ? `"${o.request}"` : o.sizeMin === o.sizeMax ? `${o.sizeMin} B` : `${o.sizeMin}-${o.sizeMax} B`
  const load = o.rate != null ? `open loop at ${o.rate}/s` : 'closed loop'
  const errors = ERROR_KINDS.filter(k => r.errors[k] > 0).map(k => `${r.errors[k]} ${k.replace('_', ' ')}`).join(', ')
  const w = r.warmup
  const lines = [
    `${r.target}  ${o.protocol}, ${load}, ${r.clients} clients, messages of ${size}`,
    ...(w != null ? [`  warm-up first: ${o.warmupS ?? w.seconds} s, ${w.messages} answers${w.errors > 0 ? ` and ${w.errors} errors` : ''} discarded (--warmup 0 to count from the start)`] : []),
    `  ${r.messages} answered of ${r.sent} sent in ${r.seconds} s: ${r.rps} requests/s`,
    `  latency p50 ${ms(r.latencyUs.p50)}  p90 ${ms(r.latencyUs.p90)}  p99 ${ms(r.latencyUs.p99)}  p99.9 ${ms(r.latencyUs.p999)}  max ${ms(r.latencyUs.max)}`,
    `  errors: ${errors === '' ? 'none' : errors}`
  ]
  const lag = r.generatorDelayUs
  if (lag != null) lines.push(`  generator event-loop delay p99 ${ms(lag.p99)}  max ${ms(lag.max)} (its own stalls show in the latency above)`)
  if (r.server != null) lines.push(`  server: CPU ${r.server.cpuPercent}%, peak RSS ${r.server.peakRssMb} MB`)
  for (const p of r.peers ?? []) lines.push(`  ${p.nick ?? p.id}: ${p.clients} clients, ${p.messages} answered`)
  return lines.join('\n') + '\n'
}

/** The progress line on stderr (at a terminal only): answers, rate and errors. */
class ProgressLine {
  private readonly bar: cliProgress.SingleBar
  private readonly total: number
  private started = false
  private readonly durationS: number | undefined

  constructor (options: LoadTestOptions) {
    this.durationS = options.durationS
    const perClient = options.messages ?? (options.durationS == null ? 100 : Infinity)
    this.total = options.durationS != null ? Math.round(options.durationS) : perClient * options.clients
    this.bar = new cliProgress.SingleBar({
      stream: process.stderr,
      format: 'loadtest {bar} {value}/{total} {unit} | {rps} req/s | {errors} errors',
      hideCursor: true,
      clearOnComplete: true
    }, cliProgress.Presets.shades_classic)
  }

  update (p: LoadProgress): void {
    const value = this.durationS != null ? Math.min(this.total, Math.floor(p.elapsedS)) : p.answered
    const payload = { rps: p.elapsedS > 0 ? Math.round(p.answered / p.elapsedS) : 0, errors: p.errors, unit: this.durationS != null ? 's' : 'answers' }
    if (!this.started) { this.bar.start(this.total, value, payload); this.started = true } else this.bar.update(value, payload)
  }

  stop (): void {
    if (this.started) this.bar.stop()
  }
}

export function parseTarget (target: string): { host: string, port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(target)
  if (match == null) throw new UsageError(`target must be HOST:PORT (like 127.0.0.1:7100), got "${target}"`)
  const port = Number(match[3])
  if (port < 1 || port > 65535) throw new UsageError(`port must be from 1 to 65535, got ${match[3]}`)
  return { host: match[1] ?? match[2], port }
}

function parseSize (value: string): [number, number] {
  const match = /^(\d+)(?:-(\d+))?$/.exec(value.replaceAll('_', ''))
  if (match == null) throw new InvalidArgumentError(`--size must be bytes or MIN-MAX, got "${value}"`)
  const min = Number(match[1])
  const max = Number(match[2] ?? match[1])
  if (min < 1 || max > MAX_SIZE || min > max) throw new InvalidArgumentError(`--size must be from 1 to ${MAX_SIZE} bytes, MIN not above MAX, got "${value}"`)
  return [min, max]
}

function parseSeconds (name: string, max: number) {
  return (value: string): number => {
    const n = Number(value)
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > max) throw new InvalidArgumentError(`${name} must be a number of seconds above 0 and at most ${max}, got "${value}"`)
    return n
  }
}

function parseWarmup (value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > MAX_DURATION_S) throw new InvalidArgumentError(`--warmup must be a number of seconds from 0 to ${MAX_DURATION_S}, got "${value}"`)
  return n
}

function parseProtocol (value: string): LoadProtocol {
  if (!(LOAD_PROTOCOLS as readonly string[]).includes(value)) throw new InvalidArgumentError(`--protocol must be one of ${LOAD_PROTOCOLS.join(', ')}, got "${value}"`)
  return value as LoadProtocol
}

