import type { Counter, Gauge, Summary } from 'prom-client'
import type { MeshMetrics } from '../metrics/metrics.ts'
import { WindowedSummary } from '../metrics/windowed-summary.ts'

const PERCENTILES = [0.5, 0.9, 0.99]

function summary (metrics: MeshMetrics, name: string, help: string, label: string): Summary {
  const existing = metrics.registry.getSingleMetric(name)
  if (existing != null) return existing as Summary
  return new WindowedSummary({ name, help, labelNames: [label], percentiles: PERCENTILES, maxAgeSeconds: 60, ageBuckets: 5, registers: [metrics.registry] })
}

/** The gateway's counters in the node's prom-client registry: `stats`, `mesh stats` and /metrics read them. */
export class GatewayMetrics {
  readonly connectionsOpen: Gauge
  readonly connectionsTotal: Counter
  readonly requests: Counter
  readonly errors: Counter
  readonly servedBy: Counter
  readonly latency: Summary
  readonly httpRequests: Counter
  readonly httpLatency: Summary

  constructor (metrics: MeshMetrics) {
    this.connectionsOpen = metrics.gauge('mesh_gateway_connections_open', 'line-protocol connections open now')
    this.connectionsTotal = metrics.counter('mesh_gateway_connections_total', 'line-protocol connections accepted, refused ones included')
    this.requests = metrics.counter('mesh_gateway_requests_total', 'gateway requests by command', ['cmd'])
    this.errors = metrics.counter('mesh_gateway_errors_total', 'gateway error answers and refusals by kind', ['kind'])
    this.servedBy = metrics.counter('mesh_gateway_served_total', 'gateway requests by the peer that did the work', ['peer'])
    this.httpRequests = metrics.counter('mesh_http_requests_total', 'HTTP API requests by route and status', ['route', 'status'])
    this.latency = summary(metrics, 'mesh_gateway_request_seconds', 'gateway request latency by command (sliding 60 s window)', 'cmd')
    this.httpLatency = summary(metrics, 'mesh_http_request_seconds', 'HTTP API request latency by route, the dashboard\'s feed and files aside (sliding 60 s window)', 'route')
  }

  /** Loads now what the first request would otherwise load on its way (the summaries' histograms). */
  prepare (): void {
    for (const s of [this.latency, this.httpLatency]) if (s instanceof WindowedSummary) s.prepare()
  }

  /** What the `stats` command answers: counts, and p50/p90/p99 in ms per command. */
  async report (): Promise<Record<string, unknown>> {
    const values = async (c: Counter | Gauge): Promise<Array<{ labels: Record<string, unknown>, value: number }>> => (await c.get()).values as any
    const byLabel = async (c: Counter, label: string): Promise<Record<string, number>> => {
      const out: Record<string, number> = {}
      for (const v of await values(c)) out[String(v.labels[label])] = v.value
      return out
    }
    const requests = await byLabel(this.requests, 'cmd')
    const latency: Record<string, Record<string, number>> = {}
    for (const v of (await this.latency.get()).values) {
      const q = (v.labels as Record<string, unknown>).quantile
      if (q == null || Number.isNaN(v.value)) continue
      const cmd = String(v.labels.cmd)
      latency[cmd] ??= {}
      latency[cmd][`p${Math.round(Number(q) * 100)}`] = Math.round(v.value * 1e6) / 1000
    }
    return {
      total_requests: Object.values(requests).reduce((a, b) => a + b, 0),
      connections_open: (await values(this.connectionsOpen))[0]?.value ?? 0,
      connections_total: (await values(this.connectionsTotal))[0]?.value ?? 0,
      requests,
      errors: await byLabel(this.errors, 'kind'),
      latency_ms: latency,
      served_by: await byLabel(this.servedBy, 'peer')
    }
  }
}
