import { describe, expect, it } from 'vitest'
import { GatewayMetrics } from '../../../node/gateway/gateway-metrics.ts'
import { MeshMetrics } from '../../../node/metrics/metrics.ts'
import { RpcMetrics } from '../../../node/rpc/rpc-metrics.ts'
import { MAX_SAMPLES, MetricSamples } from '../../../node/dashboard/metric-samples.ts'

describe('MetricSamples', () => {
  it('turns the registry\'s totals into per-second rates and mean latencies', async () => {
    const metrics = new MeshMetrics()
    const gateway = new GatewayMetrics(metrics)
    const rpc = new RpcMetrics(metrics)
    const samples = new MetricSamples(metrics)
    expect(await samples.sample(1000)).toBeUndefined()
    for (let i = 0; i < 16; i++) gateway.latency.observe({ cmd: 'prime' }, 0.004)
    for (let i = 0; i < 4; i++) gateway.httpLatency.observe({ route: '/api/peers' }, 0.004)
    for (let i = 0; i < 10; i++) rpc.requestServed('calc.sum', 'ok', 2)
    for (let i = 0; i < 6; i++) rpc.call('calc.sum', 'ok')
    const s = await samples.sample(3000)
    expect(s).toEqual({ t: 3000, gatewayRps: 10, gatewayMs: 4, rpcRps: 5, rpcMs: 2, rpcCallsRps: 3 })
    // A quiet second: zero requests, no latency to speak of.
    expect(await samples.sample(4000)).toEqual({ t: 4000, gatewayRps: 0, gatewayMs: null, rpcRps: 0, rpcMs: null, rpcCallsRps: 0 })
  })

  it(`keeps the last ${MAX_SAMPLES} samples only`, async () => {
    const samples = new MetricSamples(new MeshMetrics())
    for (let t = 0; t <= MAX_SAMPLES + 50; t++) await samples.sample(t * 1000)
    const all = samples.all()
    expect(all).toHaveLength(MAX_SAMPLES)
    expect(all.at(-1)?.t).toBe((MAX_SAMPLES + 50) * 1000)
  })
})
