import { createRequire } from 'node:module'
import { Gauge, type Counter, type Histogram } from '../metrics/prom.ts'
import type * as Hdr from 'hdr-histogram-js'
import type { MeshMetrics } from '../metrics/metrics.ts'

const require = createRequire(import.meta.url)
let hdrModule: typeof Hdr | undefined
/**
 * hdr-histogram-js, loaded when the first request is served: the module carries its
 * WebAssembly build as text and costs about 15 MB of memory and 40 ms to load, which a node
 * that serves no rpc never needs. require() keeps recording synchronous.
 */
function hdr (): typeof Hdr {
  hdrModule ??= require('hdr-histogram-js') as typeof Hdr
  return hdrModule
}

/** Latencies from 10 µs to 10 min, in the buckets /metrics exposes. */
const LATENCY_BUCKETS_SECONDS = [0.0001, 0.0005, 0.001, 0.005, 0.02, 0.1, 0.5, 2, 10, 60]

/**
 * What the rpc layer counts. Served requests per method and outcome, their latency (a
 * Prometheus histogram for /metrics, and p50/p99 gauges read from an HDR histogram so
 * `mesh stats` can print them), calls made and retried, and every frame or stream dropped.
 * Method labels are only ever registered `service.method` names or `unknown`, so a peer
 * sending random names cannot grow the label set.
 */
export class RpcMetrics {
  private readonly served: Counter
  private readonly seconds: Histogram
  private readonly dropped: Counter
  private readonly calls: Counter
  private readonly retries: Counter
  private readonly latencies = new Map<string, Hdr.Histogram>()
  /** Requests being served right now; set by the node once its server exists. */
  inflightSource: () => number = () => 0

  constructor (metrics: MeshMetrics) {
    this.served = metrics.counter('mesh_rpc_requests_total', 'rpc requests served, by method and outcome (ok|failed|cancelled)', ['method', 'outcome'])
    this.seconds = metrics.histogram('mesh_rpc_request_seconds', 'rpc request service time', ['method'], LATENCY_BUCKETS_SECONDS)
    this.dropped = metrics.counter('mesh_rpc_dropped_total', 'rpc frames, requests and streams dropped, by reason', ['reason'])
    this.calls = metrics.counter('mesh_rpc_calls_total', 'rpc calls made by this node, by method and outcome', ['method', 'outcome'])
    this.retries = metrics.counter('mesh_rpc_retries_total', 'rpc call attempts after the first, by method', ['method'])
    const latencies = this.latencies
    if (metrics.registry.getSingleMetric('mesh_rpc_requests_in_flight') == null) {
      const self = this
      // The gauge registers itself in `registers`; the registry is what holds it.
      new Gauge({
        name: 'mesh_rpc_requests_in_flight',
        help: 'rpc requests being served right now',
        registers: [metrics.registry],
        collect () { this.set(self.inflightSource()) }
      })
    }
    if (metrics.registry.getSingleMetric('mesh_rpc_request_latency_ms') == null) {
      // The gauge registers itself in `registers`; the registry is what holds it.
      new Gauge({
        name: 'mesh_rpc_request_latency_ms',
        help: 'rpc request service time percentiles since start, by method',
        labelNames: ['method', 'quantile'],
        registers: [metrics.registry],
        collect () {
          for (const [method, h] of latencies) {
            this.set({ method, quantile: 'p50' }, h.getValueAtPercentile(50) / 1000)
            this.set({ method, quantile: 'p99' }, h.getValueAtPercentile(99) / 1000)
          }
        }
      })
    }
  }

  requestServed (method: string, outcome: 'ok' | 'failed' | 'cancelled', ms: number): void {
    this.served.inc({ method, outcome })
    this.seconds.observe({ method }, ms / 1000)
    let h = this.latencies.get(method)
    if (h == null) {
      h = hdr().build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 2 })
      this.latencies.set(method, h)
    }
    h.recordValue(Math.max(1, Math.round(ms * 1000)))
  }

  drop (reason: string): void {
    this.dropped.inc({ reason })
  }

  call (method: string, outcome: string): void {
    this.calls.inc({ method, outcome })
  }

  retry (method: string): void {
    this.retries.inc({ method })
  }
}
