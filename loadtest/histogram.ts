import { build, type Histogram } from 'hdr-histogram-js'

/**
 * Latencies in microseconds, 1 µs to one hour, three significant digits: every recorded
 * value is kept within 0.1%, which is what "percentiles within HDR precision" means. 32-bit
 * counts in a flat array (about 95 KiB): recording is an index and an add, where the packed
 * layout must search its sparse encoding on every record.
 */
export function createLatencyHistogram (): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 })
}

export interface LatencySummary { p50: number, p90: number, p99: number, p999: number, max: number }

/** Percentiles in whole microseconds (0 for an empty histogram). */
export function summarizeLatency (h: Histogram): LatencySummary {
  if (h.totalCount === 0) return { p50: 0, p90: 0, p99: 0, p999: 0, max: 0 }
  const at = (p: number): number => Math.round(h.getValueAtPercentile(p))
  return { p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: Math.round(h.maxValue) }
}
