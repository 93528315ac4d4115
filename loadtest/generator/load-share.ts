import { decodeFromCompressedBase64, encodeIntoCompressedBase64 } from 'hdr-histogram-js'
import { createLatencyHistogram, summarizeLatency } from '../histogram.ts'
import { emptyErrorCounts, ERROR_KINDS, type ErrorCounts } from './error-kinds.ts'
import { LOAD_PROTOCOLS, MAX_REPLY_LINE, type LoadTestOptions } from './options.ts'
import { runLoadTest, type LoadTestResult } from './run-load-test.ts'
import { isLocalNetworkHost } from '../../protocols/local-network.ts'

/**
 * Bounds on a share of a load test that another peer asks this one to run (`--spread`): a
 * peer of the mesh may make this machine open connections, but not without limit, for ever,
 * or towards the internet.
 */
export const SHARE_LIMITS = { clients: 2000, messages: 1_000_000, durationS: 600, rate: 1_000_000, size: 1024 * 1024, timeoutMs: 60_000 }

/** A share's arguments or target failed the checks. */
export class InvalidLoadShareError extends Error {
  override name = 'InvalidArgumentsError'
}

/** What a peer sends back: its counts and its latencies as an encoded HDR histogram. */
export interface LoadShareResult {
  clients: number
  messages: number
  sent: number
  seconds: number
  errors: ErrorCounts
  histogram: string
}

/** Loopback and private addresses only: the one rule of the mesh (protocols/local-network.ts). */
export const isLocalNetworkAddress = isLocalNetworkHost

const whole = (v: unknown, max: number, name: string, min = 1): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new InvalidLoadShareError(`${name} must be a whole number from ${min} to ${max}`)
  return v
}
const positive = (v: unknown, max: number, name: string): number => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > max) throw new InvalidLoadShareError(`${name} must be a number above 0 and at most ${max}`)
  return v
}

/** Checks a share's arguments as they came off the network, field by field. */
export function parseLoadShare (args: unknown): LoadTestOptions {
  if (args == null || typeof args !== 'object' || Array.isArray(args)) throw new InvalidLoadShareError('a load share is an object')
  const a = args as Record<string, unknown>
  if (typeof a.host !== 'string' || !isLocalNetworkAddress(a.host)) throw new InvalidLoadShareError('host must be a loopback or private IP address')
  if (typeof a.protocol !== 'string' || !(LOAD_PROTOCOLS as readonly string[]).includes(a.protocol)) throw new InvalidLoadShareError(`protocol must be one of ${LOAD_PROTOCOLS.join(', ')}`)
  if (typeof a.request !== 'string' || a.request.length > 4096 || a.request.includes('\n')) throw new InvalidLoadShareError('request must be one line of at most 4096 characters')
  const sizeMin = whole(a.sizeMin, SHARE_LIMITS.size, 'sizeMin')
  const sizeMax = whole(a.sizeMax, SHARE_LIMITS.size, 'sizeMax')
  if (sizeMin > sizeMax) throw new InvalidLoadShareError('sizeMin must not be above sizeMax')
  const options: LoadTestOptions = {
    host: a.host,
    port: whole(a.port, 65535, 'port'),
    clients: whole(a.clients, SHARE_LIMITS.clients, 'clients'),
    messages: a.messages == null ? undefined : whole(a.messages, SHARE_LIMITS.messages, 'messages'),
    durationS: a.durationS == null ? undefined : positive(a.durationS, SHARE_LIMITS.durationS, 'durationS'),
    rate: a.rate == null ? undefined : whole(a.rate, SHARE_LIMITS.rate, 'rate'),
    connectRate: a.connectRate == null ? undefined : whole(a.connectRate, SHARE_LIMITS.rate, 'connectRate'),
    sizeMin,
    sizeMax,
    protocol: a.protocol as LoadTestOptions['protocol'],
    request: a.request,
    timeoutMs: whole(a.timeoutMs, SHARE_LIMITS.timeoutMs, 'timeoutMs')
  }
  // Unbounded work is refused: a share ends by its message count or its duration.
  if (options.messages == null && options.durationS == null) throw new InvalidLoadShareError('a share needs messages or durationS')
  return options
}

/** Runs a share and packs its result for the wire. */
export async function runLoadShare (args: unknown): Promise<LoadShareResult> {
  const result = await runLoadTest(parseLoadShare(args))
  return { clients: result.clients, messages: result.messages, sent: result.sent, seconds: result.seconds, errors: result.errors, histogram: encodeIntoCompressedBase64(result.histogram) }
}

/** A peer's answer checked before its histogram is added to ours. */
export function parseLoadShareResult (value: unknown): LoadShareResult {
  const v = value as Record<string, unknown> | null
  if (v == null || typeof v !== 'object' || typeof v.histogram !== 'string' || v.histogram.length > MAX_REPLY_LINE) throw new InvalidLoadShareError('a load share result has no histogram')
  const errors = emptyErrorCounts()
  for (const kind of ERROR_KINDS) errors[kind] = whole((v.errors as Record<string, unknown> | undefined)?.[kind] ?? 0, Number.MAX_SAFE_INTEGER, `errors.${kind}`, 0)
  return {
    clients: whole(v.clients, SHARE_LIMITS.clients, 'clients', 0),
    messages: whole(v.messages, Number.MAX_SAFE_INTEGER, 'messages', 0),
    sent: whole(v.sent, Number.MAX_SAFE_INTEGER, 'sent', 0),
    seconds: positive(v.seconds, 86_400, 'seconds'),
    errors,
    histogram: v.histogram
  }
}

/**
 * Our own part and the peers' parts as one result: HDR histograms add exactly (same bucket
 * layout: counts add bucket by bucket), so the merged percentiles are those of all the
 * messages, not an average of percentiles. The run lasted as long as its longest part.
 */
export function mergeLoadResults (local: LoadTestResult, shares: LoadShareResult[]): LoadTestResult {
  const histogram = createLatencyHistogram()
  histogram.add(local.histogram)
  const errors = { ...local.errors }
  let { clients, messages, sent, seconds } = local
  for (const share of shares) {
    histogram.add(decodeFromCompressedBase64(share.histogram))
    for (const kind of ERROR_KINDS) errors[kind] += share.errors[kind]
    clients += share.clients
    messages += share.messages
    sent += share.sent
    seconds = Math.max(seconds, share.seconds)
  }
  return { mode: local.mode, clients, messages, sent, seconds, rps: seconds > 0 ? Math.round(messages / seconds) : 0, errors, latencyUs: summarizeLatency(histogram), histogram }
}
