import { describe, expect, it } from 'vitest'
import { JobRunner, type PeerView, type ShardExecutor } from '../../../node/compute/scheduler/job-runner.ts'
import { ShardScheduler } from '../../../node/compute/scheduler/shard-scheduler.ts'
import { FakeClock } from '../../../node/time/fake-clock.ts'
import { truth } from './helpers.ts'

const FROM = 1_000_000n
const TO = 6_000_000n

/** Answers after `ms` of real time unless aborted; remembers what it was asked and what was aborted. */
function fakeExecutor (ms: number, log: { started: number, aborted: number }): ShardExecutor {
  return {
    run: async (range, signal, onProgress) => await new Promise((resolve, reject) => {
      log.started++
      onProgress(null)
      const timer = setTimeout(() => { resolve({ result: truth(range.from, range.to), seconds: ms / 1000 }) }, ms)
      signal.addEventListener('abort', () => { clearTimeout(timer); log.aborted++; reject(signal.reason) }, { once: true })
    })
  }
}

describe('job runner', () => {
  it('drives fake executors to the exact count and reports progress', async () => {
    const scheduler = new ShardScheduler({ from: FROM, to: TO, now: Date.now, initialRatePerSlot: 1e6 })
    const logs = { a: { started: 0, aborted: 0 }, b: { started: 0, aborted: 0 } }
    const fractions: number[] = []
    const runner = new JobRunner({
      scheduler,
      peers: () => [{ id: 'a', slots: 1, state: 'alive' }, { id: 'b', slots: 2, state: 'alive' }],
      executorFor: peer => fakeExecutor(5, logs[peer as 'a' | 'b'])
    }, { tickMs: 5, progressEveryMs: 0, onProgress: p => fractions.push(p.fraction) })
    const report = await runner.run()
    expect(report.count).toBe(truth(FROM, TO).count)
    // Every shard ran at least once (a backup copy of a straggler may add one more).
    expect(logs.a.started + logs.b.started).toBe(report.shards + report.backups + report.retries)
    expect(report.peers.reduce((n, p) => n + p.shards, 0)).toBe(report.shards)
    expect(fractions.at(-1)).toBe(1)
  })

  it('aborts the calls of a peer that left the peer list and finishes on the others', async () => {
    const scheduler = new ShardScheduler({ from: FROM, to: TO, now: Date.now, initialRatePerSlot: 1e6 })
    const logs = { a: { started: 0, aborted: 0 }, gone: { started: 0, aborted: 0 } }
    let peers: PeerView[] = [{ id: 'a', slots: 1, state: 'alive' }, { id: 'gone', slots: 1, state: 'alive' }]
    const runner = new JobRunner({
      scheduler,
      peers: () => peers,
      // The doomed peer never answers; it is dropped from the list after a moment.
      executorFor: peer => peer === 'gone' ? fakeExecutor(1e9, logs.gone) : fakeExecutor(5, logs.a)
    }, { tickMs: 5 })
    setTimeout(() => { peers = peers.filter(p => p.id !== 'gone') }, 30)
    const report = await runner.run()
    expect(report.count).toBe(truth(FROM, TO).count)
    expect(logs.gone.started).toBeGreaterThan(0)
    expect(logs.gone.aborted).toBe(logs.gone.started)
    expect(report.reassigned).toBe(logs.gone.started)
  })

  it('cancels the job on abort with a named error', async () => {
    const scheduler = new ShardScheduler({ from: FROM, to: TO, now: Date.now, initialRatePerSlot: 1e6 })
    const log = { started: 0, aborted: 0 }
    const runner = new JobRunner({ scheduler, peers: () => [{ id: 'a', slots: 1, state: 'alive' }], executorFor: () => fakeExecutor(1e9, log) }, { tickMs: 5 })
    const controller = new AbortController()
    setTimeout(() => { controller.abort() }, 20)
    await expect(runner.run(controller.signal)).rejects.toMatchObject({ name: 'JobCancelledError' })
    expect(log.aborted).toBe(log.started)
  })

  it('runs on the injected clock: shards and the stall timeout take fake time only', async () => {
    const clock = new FakeClock()
    const scheduler = new ShardScheduler({ from: FROM, to: TO, now: clock.now, initialRatePerSlot: 1e6 })
    let peers: PeerView[] = [{ id: 'a', slots: 2, state: 'alive' }]
    const runner = new JobRunner({
      scheduler,
      peers: () => peers,
      executorFor: () => ({
        run: async (range, signal) => {
          await clock.sleep(400, signal)
          return { result: truth(range.from, range.to), seconds: 0.4 }
        }
      }),
      clock
    }, { tickMs: 100, stallTimeoutMs: 5000 })
    let done = false
    const report = runner.run().finally(() => { done = true })
    while (!done && clock.pendingTimers > 0) await clock.advance(100)
    expect((await report).count).toBe(truth(FROM, TO).count)
    expect(clock.pendingTimers).toBe(0)

    // No peer at all: the job fails after the stall timeout of fake time, not before.
    peers = []
    const stalled = new JobRunner({ scheduler: new ShardScheduler({ from: FROM, to: TO, now: clock.now }), peers: () => peers, executorFor: () => { throw new Error('no peers') }, clock }, { tickMs: 100, stallTimeoutMs: 5000 })
    let failed = false
    const outcome = stalled.run().catch((err: Error) => { failed = true; return err })
    await clock.advance(4900)
    expect(failed).toBe(false)
    await clock.advance(300)
    expect(await outcome).toMatchObject({ name: 'NoEligiblePeerError' })
    expect(clock.pendingTimers).toBe(0)
  })
})
