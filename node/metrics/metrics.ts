import { Counter, Gauge, Histogram, Registry } from './prom.ts'

/**
 * One prom-client registry per node (not the global one), so several nodes in one process,
 * as in tests, keep separate counts. `mesh stats` reads it through `snapshot`; the registry
 * is prom-client's, so `--http` serves the same counts as Prometheus text on /metrics.
 */
export class MeshMetrics {
  readonly registry = new Registry()

  counter (name: string, help: string, labelNames: string[] = []): Counter {
    const existing = this.registry.getSingleMetric(name)
    if (existing != null) return existing as Counter
    return new Counter({ name, help, labelNames, registers: [this.registry] })
  }

  gauge (name: string, help: string, labelNames: string[] = []): Gauge {
    const existing = this.registry.getSingleMetric(name)
    if (existing != null) return existing as Gauge
    return new Gauge({ name, help, labelNames, registers: [this.registry] })
  }

  histogram (name: string, help: string, labelNames: string[] = [], buckets?: number[]): Histogram {
    const existing = this.registry.getSingleMetric(name)
    if (existing != null) return existing as Histogram
    return new Histogram({ name, help, labelNames, buckets, registers: [this.registry] })
  }

  /** All counters and gauges as `{ name: { labelsKey: value } }`, for JSON output. */
  async snapshot (): Promise<Record<string, Record<string, number>>> {
    const out: Record<string, Record<string, number>> = {}
    for (const metric of await this.registry.getMetricsAsJSON()) {
      if (metric.type === 'histogram' as any) continue
      out[metric.name] ??= {}
      for (const v of metric.values) {
        const key = Object.entries(v.labels ?? {}).map(([k, l]) => `${k}=${String(l)}`).join(',') || 'total'
        // A summary's _sum and _count carry the quantiles' labels: under their own names, or
        // the count would overwrite the sum under the family's.
        const name = (v as { metricName?: string }).metricName ?? metric.name
        out[name] ??= {}
        out[name][key] = v.value
      }
    }
    return out
  }
}
