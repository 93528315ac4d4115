import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createLatencyHistogram, summarizeLatency, type LatencySummary } from '../histogram.ts'
import type { Histogram } from 'hdr-histogram-js'
import { emptyErrorCounts, totalErrors, type ErrorCounts } from './error-kinds.ts'
import { EchoExchange, GatewayExchange, type Exchange } from './exchanges.ts'
import { LoadClient, type RunState } from './load-client.ts'
import { DEFAULT_MESSAGES, type LoadTestOptions } from './options.ts'

/** How often overdue answers are looked for: a timeout is late by at most this much. */
const SWEEP_EVERY_MS = 50
const PROGRESS_EVERY_MS = 250

export interface LoadProgress { elapsedS: number, answered: number, sent: number, errors: number, expected: number | null }

export interface LoadTestResult {
  mode: 'closed' | 'open'
  clients: number
  /** Messages answered correctly, over all clients. */
  messages: number
  /** Messages sent (answered, failed, or cut off by the end of the run). */
  sent: number
  seconds: number
  /** Answered messages per second. */
  rps: number
  errors: ErrorCounts
  latencyUs: LatencySummary
  /**
   * How late this generator's own event loop ran during the run (µs). An open loop charges
   * a message from when it was due: a generator that stalls (its GC, or no core to run on)
   * is counted as server latency, and this says how much of the tail that can be.
   */
  generatorDelayUs?: LatencySummary
  /** The warm-up run before, when there was one: its answers are in none of the figures above. */
  warmup?: { seconds: number, messages: number, errors: number }
  histogram: Histogram
}

/**
 * Runs one load test: `clients` connections (all at once, or `connectRate` per second), each
 * in a closed or open loop until it has `messages` answers, the duration ends, or it fails.
 */
export async function runLoadTest (options: LoadTestOptions, onProgress?: (progress: LoadProgress) => void): Promise<LoadTestResult> {
  if (options.warmupS == null || options.warmupS <= 0) return await measuredRun(options, onProgress)
  // The same load, for the warm-up's seconds, then the run itself on fresh connections.
  const warm = await measuredRun({ ...options, messages: undefined, durationS: options.warmupS, warmupS: undefined })
  warm.histogram.destroy()
  const result = await measuredRun(options, onProgress)
  return { ...result, warmup: { seconds: warm.seconds, messages: warm.messages, errors: totalErrors(warm.errors) } }
}

async function measuredRun (options: LoadTestOptions, onProgress?: (progress: LoadProgress) => void): Promise<LoadTestResult> {
  const histogram = createLatencyHistogram()
  const messages = options.messages ?? (options.durationS != null ? Infinity : DEFAULT_MESSAGES)
  const intervalMs = options.rate != null ? options.clients * 1000 / options.rate : 0
  const run: RunState = {
    host: options.host,
    port: options.port,
    messages,
    stopAt: Infinity,
    intervalMs,
    phaseMs: options.rate != null ? 1000 / options.rate : 0,
    histogram,
    errors: emptyErrorCounts(),
    answered: 0,
    sent: 0
  }
  const makeExchange = (): Exchange => options.protocol === 'gateway'
    ? new GatewayExchange(options.request)
    : new EchoExchange(options.sizeMin, options.sizeMax)
  const clients = Array.from({ length: options.clients }, (_, i) => new LoadClient(i, run, makeExchange()))

  const loopDelay = monitorEventLoopDelay({ resolution: 1 })
  loopDelay.enable()
  const started = performance.now()
  if (options.durationS != null) run.stopAt = started + options.durationS * 1000
  const timers: NodeJS.Timeout[] = []
  if (options.connectRate == null) for (const client of clients) client.start()
  else clients.forEach((client, i) => { timers.push(setTimeout(() => { client.start() }, i * 1000 / (options.connectRate as number))) })

  const sweeper = setInterval(() => {
    const now = performance.now()
    if (now >= run.stopAt) for (const client of clients) client.stop()
    else for (const client of clients) client.checkTimeout(now, options.timeoutMs)
  }, SWEEP_EVERY_MS)
  const expected = Number.isFinite(messages) ? messages * options.clients : null
  const progress = onProgress == null
    ? null
    : setInterval(() => {
      onProgress({ elapsedS: (performance.now() - started) / 1000, answered: run.answered, sent: run.sent, errors: totalErrors(run.errors), expected })
    }, PROGRESS_EVERY_MS)
  try {
    await Promise.all(clients.map(async client => { await client.done }))
  } finally {
    clearInterval(sweeper)
    if (progress != null) clearInterval(progress)
    for (const timer of timers) clearTimeout(timer)
    loopDelay.disable()
  }
  const seconds = (performance.now() - started) / 1000
  return {
    mode: options.rate != null ? 'open' : 'closed',
    clients: options.clients,
    messages: run.answered,
    sent: run.sent,
    seconds: Math.round(seconds * 1000) / 1000,
    rps: seconds > 0 ? Math.round(run.answered / seconds) : 0,
    errors: run.errors,
    latencyUs: summarizeLatency(histogram),
    generatorDelayUs: summarizeLoopDelay(loopDelay),
    histogram
  }
}

/** The event-loop delay histogram (ns) as whole µs; its 1 ms sampling timer counts as delay too. */
function summarizeLoopDelay (h: ReturnType<typeof monitorEventLoopDelay>): LatencySummary {
  if (h.count === 0) return { p50: 0, p90: 0, p99: 0, p999: 0, max: 0 }
  const us = (ns: number): number => Math.round(ns / 1000)
  return { p50: us(h.percentile(50)), p90: us(h.percentile(90)), p99: us(h.percentile(99)), p999: us(h.percentile(99.9)), max: us(h.max) }
}
