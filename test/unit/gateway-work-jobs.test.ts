import { describe, expect, it } from 'vitest'
import { GatewayWork, MAX_GATEWAY_JOBS } from '../../node/gateway/gateway-work.ts'
import { FakeClock } from '../../node/time/fake-clock.ts'

/**
 * Wide counts become journaled jobs over the whole mesh: a gateway client may not start
 * them faster than they finish. Jobs here run until the test lets them end.
 */
describe('gateway: wide counts at once', () => {
  it(`runs at most ${MAX_GATEWAY_JOBS} jobs; the next is refused as busy, and accepted once one ends`, async () => {
    const finish: Array<() => void> = []
    let started = 0
    const jobs = {
      count: (from: bigint, to: bigint) => (async function * () {
        started++
        await new Promise<void>(resolve => { finish.push(resolve) })
        yield { type: 'done', report: { from: String(from), to: String(to), count: '1', seconds: 1, shards: 1, peers: [], retries: 0, job: 'j' } }
      })()
    }
    const servedBy = { inc: () => {} }
    const work = new GatewayWork({ rpc: {} as any, jobs: jobs as any, membership: {} as any, metrics: { servedBy } as any, clock: new FakeClock() })
    const wide = { cmd: 'count', from: 0n, to: 10n ** 12n } as const
    const signal = new AbortController().signal
    const running = Array.from({ length: MAX_GATEWAY_JOBS }, async () => await work.run(wide as any, signal))
    await expect.poll(() => started).toBe(MAX_GATEWAY_JOBS)
    await expect(work.run(wide as any, signal)).rejects.toMatchObject({ kind: 'busy' })
    finish.shift()?.()
    await running[0]
    const next = work.run(wide as any, signal)
    await expect.poll(() => started).toBe(MAX_GATEWAY_JOBS + 1)
    for (const f of finish.splice(0)) f()
    await expect(next).resolves.toMatchObject({ count: 1 })
    await Promise.all(running)
  })
})
