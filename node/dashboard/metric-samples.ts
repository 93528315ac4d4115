import type { MeshMetrics } from '../metrics/metrics.ts'

/** One second of the node's traffic: requests per second and their mean latency in ms. */
export interface MetricSample {
  /** Local wall-clock ms at the end of the second. */
  t: number
  gatewayRps: number
  /** Mean latency of the gateway requests answered in that second; null when none were. */
  gatewayMs: number | null
  /** rpc requests this node served, and their mean service time. */
  rpcRps: number
  rpcMs: number | null
  /** rpc calls this node made (a coordinator's shards, the gateway's work). */
  rpcCallsRps: number
}

/** Ten minutes of one-second samples: the charts show the last minutes, and this bounds memory. */
export const MAX_SAMPLES = 600

interface Totals { gatewayCount: number, gatewaySum: number, rpcCount: number, rpcSum: number, rpcCalls: number }

const GATEWAY_LATENCY = 'mesh_gateway_request_seconds'
const HTTP_LATENCY = 'mesh_http_request_seconds'
const RPC_LATENCY = 'mesh_rpc_request_seconds'
const RPC_CALLS = 'mesh_rpc_calls_total'

/**
 * Turns the registry's ever-growing totals into per-second rates: the gateway's requests
 * (line protocol and HTTP API, from their latency summaries) and the rpc requests this node
 * served (from its latency histogram) and made. Reads only the `_count` and `_sum` of each, so a
 * sample costs two metric reads whatever the number of labels.
 */
export class MetricSamples {
  private readonly metrics: Pick<MeshMetrics, 'registry'>
  private readonly samples: MetricSample[] = []
  private last?: Totals & { t: number }

  constructor (metrics: Pick<MeshMetrics, 'registry'>) {
    this.metrics = metrics
  }

  /** Every sample kept, oldest first. */
  all (): MetricSample[] {
    return [...this.samples]
  }

  /** Reads the totals now and keeps the rates since the last call; the first call only sets the baseline. */
  async sample (now: number): Promise<MetricSample | undefined> {
    const totals = await this.totals()
    const last = this.last
    this.last = { ...totals, t: now }
    if (last == null || now <= last.t) return undefined
    const seconds = (now - last.t) / 1000
    const gatewayCount = totals.gatewayCount - last.gatewayCount
    const rpcCount = totals.rpcCount - last.rpcCount
    const sample: MetricSample = {
      t: now,
      gatewayRps: round(gatewayCount / seconds),
      gatewayMs: gatewayCount > 0 ? round((totals.gatewaySum - last.gatewaySum) * 1000 / gatewayCount) : null,
      rpcRps: round(rpcCount / seconds),
      rpcMs: rpcCount > 0 ? round((totals.rpcSum - last.rpcSum) * 1000 / rpcCount) : null,
      rpcCallsRps: round((totals.rpcCalls - last.rpcCalls) / seconds)
    }
    this.samples.push(sample)
    if (this.samples.length > MAX_SAMPLES) this.samples.shift()
    return sample
  }

  private async totals (): Promise<Totals> {
    const [lineCount, lineSum] = await this.countAndSum(GATEWAY_LATENCY)
    const [httpCount, httpSum] = await this.countAndSum(HTTP_LATENCY)
    const gatewayCount = lineCount + httpCount
    const gatewaySum = lineSum + httpSum
    const [rpcCount, rpcSum] = await this.countAndSum(RPC_LATENCY)
    return { gatewayCount, gatewaySum, rpcCount, rpcSum, rpcCalls: await this.total(RPC_CALLS) }
  }

  /** A counter's value summed over its labels. */
  private async total (name: string): Promise<number> {
    const metric = this.metrics.registry.getSingleMetric(name)
    if (metric == null) return 0
    let sum = 0
    for (const v of (await metric.get()).values) sum += v.value
    return sum
  }

  /** The `_count` and `_sum` of a summary or histogram over all its labels; zeros before it exists. */
  private async countAndSum (name: string): Promise<[number, number]> {
    const metric = this.metrics.registry.getSingleMetric(name)
    if (metric == null) return [0, 0]
    let count = 0
    let sum = 0
    for (const v of (await metric.get()).values as Array<{ metricName?: string, value: number }>) {
      if (v.metricName === `${name}_count`) count += v.value
      else if (v.metricName === `${name}_sum`) sum += v.value
    }
    return [count, sum]
  }
}

function round (x: number): number {
  return Math.round(x * 100) / 100
}
