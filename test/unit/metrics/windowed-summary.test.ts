import { afterEach, describe, expect, it, vi } from 'vitest'
import { MeshMetrics } from '../../../node/metrics/metrics.ts'
import { Registry } from '../../../node/metrics/prom.ts'
import { WindowedSummary } from '../../../node/metrics/windowed-summary.ts'

afterEach(() => { vi.useRealTimers() })

function summary (registry: InstanceType<typeof Registry>): WindowedSummary {
  return new WindowedSummary({ name: 'x_seconds', help: 'test latencies', labelNames: ['cmd'], percentiles: [0.5, 0.9, 0.99], maxAgeSeconds: 60, ageBuckets: 5, registers: [registry] })
}

/** Within the histograms' precision (2 significant digits: about 1%). */
function expectNear (actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(expected * 0.015)
}

/** The value of one exposition line, by its name and labels as printed. */
function sample (text: string, series: string): number {
  const line = text.split('\n').find(l => l.startsWith(`${series} `))
  if (line == null) throw new Error(`no ${series} in\n${text}`)
  return Number(line.slice(series.length + 1))
}

describe('WindowedSummary: a Prometheus summary over HDR histograms', () => {
  it('exposes quantiles per label set, _sum and _count, as a summary', async () => {
    const registry = new Registry()
    const s = summary(registry)
    for (let ms = 1; ms <= 1000; ms++) s.observe({ cmd: 'prime' }, ms / 1000)
    s.labels({ cmd: 'echo' }).observe(0.000_25)
    const text = await registry.metrics()
    expect(text).toContain('# TYPE x_seconds summary')
    expectNear(sample(text, 'x_seconds{quantile="0.5",cmd="prime"}'), 0.5)
    expectNear(sample(text, 'x_seconds{quantile="0.9",cmd="prime"}'), 0.9)
    expectNear(sample(text, 'x_seconds{quantile="0.99",cmd="prime"}'), 0.99)
    expect(sample(text, 'x_seconds_count{cmd="prime"}')).toBe(1000)
    expect(sample(text, 'x_seconds_sum{cmd="prime"}')).toBeCloseTo(500.5, 6)
    expectNear(sample(text, 'x_seconds{quantile="0.5",cmd="echo"}'), 0.000_25)
    expect(() => { s.observe({ other: 'x' } as any, 1) }).toThrow(/not included/)
    expect(() => { s.observe({ cmd: 'prime' }, Number.NaN) }).toThrow(TypeError)
  })

  it('forgets observations older than its window; _sum and _count keep counting', async () => {
    vi.useFakeTimers({ toFake: ['performance'] })
    const registry = new Registry()
    const s = summary(registry)
    s.observe({ cmd: 'prime' }, 2)
    vi.advanceTimersByTime(30_000)
    s.observe({ cmd: 'prime' }, 0.001)
    let text = await registry.metrics()
    expectNear(sample(text, 'x_seconds{quantile="0.99",cmd="prime"}'), 2)
    vi.advanceTimersByTime(40_000)
    text = await registry.metrics()
    // The 2 s observation is 70 s old, out of the 60 s window; the 1 ms one is 40 s old.
    expectNear(sample(text, 'x_seconds{quantile="0.99",cmd="prime"}'), 0.001)
    expect(sample(text, 'x_seconds_count{cmd="prime"}')).toBe(2)
    vi.advanceTimersByTime(60_000)
    text = await registry.metrics()
    expect(sample(text, 'x_seconds{quantile="0.99",cmd="prime"}')).toBe(0)
    expect(sample(text, 'x_seconds_count{cmd="prime"}')).toBe(2)
  })
})

describe('MeshMetrics.snapshot of a summary (what `mesh stats` prints)', () => {
  it('keeps _sum and _count apart from each other and from the quantiles', async () => {
    const metrics = new MeshMetrics()
    const s = new WindowedSummary({ name: 'x_seconds', help: 'test latencies', labelNames: ['cmd'], percentiles: [0.5], maxAgeSeconds: 60, ageBuckets: 5, registers: [metrics.registry] })
    s.observe({ cmd: 'count' }, 0.25)
    s.observe({ cmd: 'count' }, 0.75)
    const snapshot = await metrics.snapshot()
    expect(snapshot.x_seconds_count).toEqual({ 'cmd=count': 2 })
    expect(snapshot.x_seconds_sum).toEqual({ 'cmd=count': 1 })
    expect(Object.keys(snapshot.x_seconds)).toEqual(['quantile=0.5,cmd=count'])
  })
})
