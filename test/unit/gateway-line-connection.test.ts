import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { MAX_LINE_BYTES } from '../../protocols/gateway/constants.ts'
import type { GatewayRequest } from '../../protocols/gateway/line-request.ts'
import { GatewayMetrics } from '../../node/gateway/gateway-metrics.ts'
import { LineGateway } from '../../node/gateway/line-gateway.ts'
import { MeshMetrics } from '../../node/metrics/metrics.ts'
import { FakeClock } from '../../node/time/fake-clock.ts'
import { GatewayClient } from '../utils/gateway-client.ts'
import { waitUntil } from '../utils/wait.ts'

/**
 * The line server alone, on a real loopback socket, with work that answers in the gateway
 * (echo after a random delay, so answers finish out of order) and a fake clock for idleness.
 */
const work = {
  run: async (request: GatewayRequest): Promise<Record<string, unknown>> => {
    await new Promise(resolve => setTimeout(resolve, Math.random() * 3))
    if (request.cmd === 'echo') return { echo: request.text }
    return { cmd: request.cmd }
  }
}

let gateway: LineGateway | undefined
afterEach(async () => { await gateway?.stop() })

async function startGateway (clock = new FakeClock(), init: { maxInFlight?: number, maxConnections?: number, idleTimeoutMs?: number } = {}): Promise<{ address: { host: string, port: number }, metrics: GatewayMetrics }> {
  const metrics = new GatewayMetrics(new MeshMetrics())
  gateway = new LineGateway({ work, metrics, clock }, { host: '127.0.0.1', port: 0, ...init })
  await gateway.start()
  return { address: gateway.address() as { host: string, port: number }, metrics }
}

describe('gateway line connections', () => {
  it('every line gets exactly one answer, in order, whatever the bytes and however they are cut', async () => {
    const { address } = await startGateway(new FakeClock(), { maxInFlight: 4 })
    const byte = fc.integer({ min: 0, max: 255 }).filter(b => b !== 10)
    const line = fc.oneof(
      fc.uint8Array({ maxLength: 60 }).map(a => Buffer.from(a.filter(b => b !== 10))),
      fc.nat(40).map(i => Buffer.from(`echo ${i}`)),
      fc.constantFrom(Buffer.from('prime 7'), Buffer.from('{"cmd":"echo","text":"j","id":1}'), Buffer.from('\r'), Buffer.alloc(0)),
      fc.tuple(byte, fc.integer({ min: MAX_LINE_BYTES - 2, max: MAX_LINE_BYTES + 3 })).map(([b, n]) => Buffer.alloc(n, b))
    )
    await fc.assert(fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 70_000 }), async (lines, cut) => {
      const client = await GatewayClient.connect(address)
      try {
        const bytes = Buffer.concat(lines.flatMap(l => [l, Buffer.from('\n')]))
        for (let i = 0; i < bytes.length; i += cut) client.send(bytes.subarray(i, i + cut))
        const answers = await client.read(lines.length)
        lines.forEach((l, i) => {
          const text = l.toString()
          expect(typeof answers[i].ok).toBe('boolean')
          if (/^echo \d+$/.test(text)) expect(answers[i]).toEqual({ ok: true, echo: text.slice(5) })
          if (l.length > MAX_LINE_BYTES) expect(answers[i]).toEqual({ ok: false, error: `line longer than ${MAX_LINE_BYTES} bytes; skipped` })
        })
        client.send('echo last')
        expect(await client.read(1)).toEqual([{ ok: true, echo: 'last' }])
      } finally {
        client.close()
      }
    }), { numRuns: 40, endOnFailure: true })
  })

  it('answers a half line at close with an error, then closes', async () => {
    const { address } = await startGateway()
    const client = await GatewayClient.connect(address)
    client.socket.end('echo a\necho b')
    expect(await client.read(2)).toEqual([{ ok: true, echo: 'a' }, { ok: false, error: 'the connection ended inside a line (no newline)' }])
    await waitUntil('the gateway to close', () => client.closed)
  })

  it('closes a connection idle past the timeout, on its clock', async () => {
    const clock = new FakeClock()
    const { address, metrics } = await startGateway(clock, { idleTimeoutMs: 10_000 })
    const client = await GatewayClient.connect(address)
    expect(await client.ask('echo x')).toEqual([{ ok: true, echo: 'x' }])
    await clock.advance(5_000)
    expect(await client.ask('echo y')).toEqual([{ ok: true, echo: 'y' }])
    await clock.advance(8_000)
    expect(client.closed).toBe(false)
    await clock.advance(5_000)
    expect(await client.read(1)).toEqual([{ ok: false, error: 'idle for 10 s; closing' }])
    await waitUntil('the gateway to close it', () => client.closed)
    expect((await metrics.report()).errors).toEqual({ idle_timeout: 1 })
    await waitUntil('no connection left', () => gateway?.openConnections === 0)
  })

  it('the connection cap refuses the excess with one error line; freed places are taken again', async () => {
    const { address, metrics } = await startGateway(new FakeClock(), { maxConnections: 3 })
    const held = await Promise.all([1, 2, 3].map(async () => await GatewayClient.connect(address)))
    await waitUntil('three connections open', () => gateway?.openConnections === 3)
    const refused = await GatewayClient.connect(address)
    expect(await refused.read(1)).toEqual([{ ok: false, error: 'too many connections (3); try again later' }])
    await waitUntil('the refused one closed', () => refused.closed)
    expect(await held[0].ask('echo still here')).toEqual([{ ok: true, echo: 'still here' }])
    held[1].close()
    await waitUntil('a place free', () => gateway?.openConnections === 2)
    const next = await GatewayClient.connect(address)
    expect(await next.ask('echo in')).toEqual([{ ok: true, echo: 'in' }])
    expect((await metrics.report()).errors).toEqual({ connection_cap: 1 })
    for (const c of [...held, next]) c.close()
  })
})
