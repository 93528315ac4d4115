/**
 * One open-loop run against a gateway, by `mesh loadtest --rate` or by the C generator
 * (bench/gateway-open-load.c), with what it takes to tell whose tail it is: the generator's
 * own lateness (mesh loadtest: its event-loop delay; C: how late it wrote its requests), the gateway node's young-generation
 * collections and event-loop delay during the run (its Prometheus /metrics, read before and
 * after), and the stalls of this process idling meanwhile (what the machine alone does to any
 * process: a request needs the generator and the gateway both to run, so a stall of either is
 * every queued request's).
 */
import { execFile, execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'

const MESH_JS = fileURLToPath(new URL('../cli/mesh.js', import.meta.url))
const C_SOURCE = fileURLToPath(new URL('./gateway-open-load.c', import.meta.url))
const execFileAsync = promisify(execFile)

/** The two generators: `mesh loadtest` (Node, one request in flight per connection) and the C one. */
export type OpenLoopGenerator = 'mesh' | 'c'

/** Compiles the C generator into `dir`; its path. */
export function buildCGenerator (dir: string): string {
  const binary = join(dir, 'gateway-open-load')
  execFileSync('cc', ['-O2', '-o', binary, C_SOURCE])
  return binary
}

export interface Address { host: string, port: number }

export interface OpenLoopRow {
  generator: OpenLoopGenerator
  rate: number
  /** Answered per second. */
  rps: number
  p50: number
  p99: number
  p999: number
  max: number
  /** The generator's lateness, ms: mesh loadtest's event loop beyond its 1 ms sampling period; C: its writes after their due time. */
  generatorP99: number
  generatorMax: number
  /** The C generator's own CPU over the run, % of one core. */
  generatorCpuPercent?: number
  /** Requests lost: wrong answers, resets, not written (C: too many in flight), unanswered. */
  errors: number
  /** This process idling meanwhile: share of the time lost in wake-ups over 1 ms late (%), and the longest, ms. */
  idleLostPercent: number
  idleMax: number
  /** The gateway node during the run, when its /metrics was given. */
  gateway?: GatewayPauses
}

export interface GatewayPauses {
  /** Young-generation collections (scavenges) a second, their mean pause (ms), and how many took over 1 ms and over 10 ms. */
  scavengesPerS: number
  scavengeMeanMs: number
  scavengesOver1Ms: number
  scavengesOver10Ms: number
  /** The node's event-loop delay p99 and max beyond prom-client's 10 ms sampling period, ms. */
  loopP99: number
  loopMax: number
}

export interface OpenLoopOptions {
  rate: number
  seconds: number
  clients: number
  /** The command the generator runs under, e.g. ['chrt', '-f', '10'] or ['taskset', '-c', '0']. */
  prefix?: string[]
  /** The gateway node's /metrics URL. */
  metricsUrl?: string
  /** The C generator's binary (buildCGenerator): runs it instead of mesh loadtest. */
  cBinary?: string
  /** Seconds of the same load first, left out (both generators; mesh loadtest's own default otherwise). */
  warmupS?: number
}

export async function openLoop (address: Address, o: OpenLoopOptions): Promise<OpenLoopRow> {
  const before = o.metricsUrl != null ? await scrape(o.metricsUrl) : undefined
  const idle = idleProbe()
  const warmup = o.warmupS ?? 1
  const args = o.cBinary != null
    ? [o.cBinary, address.host, String(address.port), String(o.clients), String(o.rate), String(o.seconds), String(warmup), 'prime 104729']
    : [process.execPath, MESH_JS, 'loadtest', `${address.host}:${address.port}`, '--protocol', 'gateway', '--request', 'prime 104729',
        '--rate', String(o.rate), '--duration', String(o.seconds), '--clients', String(o.clients), '--warmup', String(warmup), '--json']
  const [cmd, ...rest] = [...(o.prefix ?? []), ...args]
  const started = performance.now()
  let stdout: string
  try {
    ;({ stdout } = await execFileAsync(cmd, rest, { encoding: 'utf8' }))
  } finally {
    idle.stop()
  }
  const elapsedS = (performance.now() - started) / 1000
  const after = o.metricsUrl != null ? await scrape(o.metricsUrl) : undefined
  const r = JSON.parse(stdout)
  const ms = (us: number): number => us / 1000
  // The generator's delay histogram includes its 1 ms sampling period.
  const late = (us: number): number => Math.max(0, us / 1000 - 1)
  const lateness = o.cBinary != null ? { p99: ms(r.sendLateUs.p99), max: ms(r.sendLateUs.max) } : { p99: late(r.generatorDelayUs.p99), max: late(r.generatorDelayUs.max) }
  return {
    generator: o.cBinary != null ? 'c' : 'mesh',
    rate: o.rate,
    rps: r.rps,
    p50: ms(r.latencyUs.p50),
    p99: ms(r.latencyUs.p99),
    p999: ms(r.latencyUs.p999),
    max: ms(r.latencyUs.max),
    generatorP99: lateness.p99,
    generatorMax: lateness.max,
    generatorCpuPercent: r.cpuPercent,
    errors: Object.values(r.errors as Record<string, number>).reduce((a, b) => a + b, 0),
    idleLostPercent: idle.lostMs() / (elapsedS * 1000) * 100,
    idleMax: idle.maxMs(),
    gateway: before != null && after != null ? pausesBetween(before, after, elapsedS) : undefined
  }
}

/**
 * A 1 ms interval in this process, which does nothing else meanwhile: each wake-up later than
 * 1 ms past its due time is time this process could not have run, whatever its own work.
 */
function idleProbe (): { stop: () => void, lostMs: () => number, maxMs: () => number } {
  let last = performance.now()
  let lost = 0
  let max = 0
  const timer = setInterval(() => {
    const now = performance.now()
    const gap = now - last - 1
    last = now
    if (gap > 1) lost += gap
    if (gap > max) max = gap
  }, 1)
  return { stop: () => { clearInterval(timer) }, lostMs: () => lost, maxMs: () => max }
}

type Scrape = Map<string, number>

async function scrape (url: string): Promise<Scrape> {
  const text = await (await fetch(url)).text()
  const out: Scrape = new Map()
  for (const line of text.split('\n')) {
    if (!line.startsWith('nodejs_gc_duration_seconds') && !line.startsWith('nodejs_eventloop_lag')) continue
    const space = line.lastIndexOf(' ')
    out.set(line.slice(0, space), Number(line.slice(space + 1)))
  }
  return out
}

/** prom-client samples the event loop every 10 ms and counts the period itself as delay. */
const LAG_PERIOD_MS = 10
const beyondPeriod = (seconds: number | undefined): number => Math.max(0, (seconds ?? 0) * 1000 - LAG_PERIOD_MS)

/** Minor (scavenge) collections between two scrapes; the event-loop figures are the second's (prom-client resets them at each scrape). */
function pausesBetween (a: Scrape, b: Scrape, seconds: number): GatewayPauses {
  const diff = (key: string): number => (b.get(key) ?? 0) - (a.get(key) ?? 0)
  const count = diff('nodejs_gc_duration_seconds_count{kind="minor"}')
  const sum = diff('nodejs_gc_duration_seconds_sum{kind="minor"}')
  const upTo = (le: string): number => diff(`nodejs_gc_duration_seconds_bucket{le="${le}",kind="minor"}`)
  return {
    scavengesPerS: count / seconds,
    scavengeMeanMs: count > 0 ? sum / count * 1000 : 0,
    scavengesOver1Ms: count - upTo('0.001'),
    scavengesOver10Ms: count - upTo('0.01'),
    loopP99: beyondPeriod(b.get('nodejs_eventloop_lag_p99_seconds')),
    loopMax: beyondPeriod(b.get('nodejs_eventloop_lag_max_seconds'))
  }
}
