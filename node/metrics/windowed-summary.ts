import { createRequire } from 'node:module'
import { Summary, type LabelValues, type MetricObjectWithValues, type MetricValue, type SummaryConfiguration } from 'prom-client'
import type * as Hdr from 'hdr-histogram-js'

const require = createRequire(import.meta.url)
let hdrModule: typeof Hdr | undefined
/** Loaded on the first observation (it carries a WebAssembly build as text: memory a node without a gateway never needs). */
function hdr (): typeof Hdr {
  hdrModule ??= require('hdr-histogram-js') as typeof Hdr
  return hdrModule
}

/** Values are recorded in microseconds, from 1 µs to an hour, to 2 significant digits. */
const MICROS = 1e6
const HIGHEST_MICROS = 3_600_000_000

interface LabelSet {
  labels: LabelValues<string>
  /** One histogram per age bucket; `epochs[i]` is the bucket period it holds. */
  buckets: Hdr.Histogram[]
  epochs: number[]
  count: number
  sum: number
}

/**
 * A Prometheus summary (quantiles over a sliding window of `maxAgeSeconds`, in `ageBuckets`
 * steps, plus `_sum` and `_count`) whose observations cost one HDR histogram record.
 * prom-client's own Summary pushes every observation into a t-digest per age bucket: at
 * 30,000 gateway requests a second that was a sixth of the gateway's CPU. The quantiles are
 * merged from the live buckets when the metric is read.
 */
export class WindowedSummary extends Summary {
  private readonly sets = new Map<string, LabelSet>()
  private readonly bucketMs: number
  private readonly ageBuckets: number
  private readonly quantiles: number[]
  private readonly labelOrder: string[]
  private readonly metricName: string
  private readonly metricHelp: string

  constructor (config: SummaryConfiguration<string> & { maxAgeSeconds: number, ageBuckets: number }) {
    super(config)
    this.ageBuckets = config.ageBuckets
    this.bucketMs = config.maxAgeSeconds * 1000 / config.ageBuckets
    this.quantiles = config.percentiles ?? [0.01, 0.05, 0.5, 0.9, 0.95, 0.99, 0.999]
    this.labelOrder = [...(config.labelNames ?? [])].sort()
    this.metricName = config.name
    this.metricHelp = config.help
  }

  /**
   * Loads the histogram module now rather than on the first observation: its load and
   * compile took about 30 ms of the event loop, which an open-loop client charges to every
   * request that arrives meanwhile.
   */
  prepare (): void {
    hdr()
  }

  override observe (labels: LabelValues<string> | number, value?: number): void {
    const [l, v] = typeof labels === 'number' ? [{}, labels] : [labels, value as number]
    if (!Number.isFinite(v)) throw new TypeError(`Value is not a valid number: ${v}`)
    const set = this.setOf(l)
    const epoch = Math.floor(performance.now() / this.bucketMs)
    const i = epoch % this.ageBuckets
    if (set.epochs[i] !== epoch) {
      set.buckets[i].reset()
      set.epochs[i] = epoch
    }
    set.buckets[i].recordValue(Math.min(HIGHEST_MICROS, Math.max(1, Math.round(v * MICROS))))
    set.count++
    set.sum += v
  }

  override labels (...args: any[]): { observe: (value: number) => void, startTimer: () => () => number } {
    const labels: LabelValues<string> = typeof args[0] === 'object' ? args[0] : Object.fromEntries(this.labelOrder.map((name, i) => [name, args[i]]))
    return {
      observe: value => { this.observe(labels, value) },
      startTimer: () => {
        const start = performance.now()
        return () => {
          const seconds = (performance.now() - start) / 1000
          this.observe(labels, seconds)
          return seconds
        }
      }
    }
  }

  override reset (): void {
    // prom-client's constructor calls reset() before this class's fields exist.
    if (this.sets == null) return
    for (const set of this.sets.values()) {
      for (const h of set.buckets) h.reset()
      set.count = 0
      set.sum = 0
    }
  }

  override async get (): Promise<MetricObjectWithValues<MetricValue<string>>> {
    const values: Array<MetricValue<string> & { metricName?: string }> = []
    const now = Math.floor(performance.now() / this.bucketMs)
    for (const set of this.sets.values()) {
      const merged = hdr().build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_MICROS, numberOfSignificantValueDigits: 2 })
      set.buckets.forEach((h, i) => { if (now - set.epochs[i] < this.ageBuckets) merged.add(h) })
      for (const q of this.quantiles) {
        values.push({ labels: { quantile: q, ...set.labels }, value: merged.totalCount === 0 ? 0 : merged.getValueAtPercentile(q * 100) / MICROS })
      }
      merged.destroy()
      values.push({ metricName: `${this.metricName}_sum`, labels: set.labels, value: set.sum })
      values.push({ metricName: `${this.metricName}_count`, labels: set.labels, value: set.count })
    }
    // The shape prom-client's own Summary.get() gives the registry (its type names no `collect`).
    return { name: this.metricName, help: this.metricHelp, type: 'summary', values, aggregator: 'sum' } as unknown as MetricObjectWithValues<MetricValue<string>>
  }

  private setOf (labels: LabelValues<string>): LabelSet {
    let key = ''
    for (const name of this.labelOrder) key += `${String(labels[name] ?? '')}\u0000`
    let set = this.sets.get(key)
    if (set == null) {
      for (const name of Object.keys(labels)) {
        if (!this.labelOrder.includes(name)) throw new Error(`Added label "${name}" is not included in initial labelset: ${JSON.stringify(this.labelOrder)}`)
      }
      const buckets = Array.from({ length: this.ageBuckets }, () =>
        hdr().build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_MICROS, numberOfSignificantValueDigits: 2 }))
      set = { labels: { ...labels }, buckets, epochs: buckets.map(() => -Infinity), count: 0, sum: 0 }
      this.sets.set(key, set)
    }
    return set
  }
}
