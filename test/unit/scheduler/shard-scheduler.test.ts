import { describe, expect, it } from 'vitest'
import { FakeClock, makeScheduler, runToEnd, truth } from './helpers.ts'

const FROM = 1_000_000n
const TO = 9_000_000n
const TRUE = truth(FROM, TO)

describe('shard scheduler', () => {
  it('counts exactly over several peers, each shard accepted once', () => {
    const clock = new FakeClock()
    const s = makeScheduler(clock, { from: FROM, to: TO })
    s.upsertPeer({ id: 'a', slots: 2 })
    s.upsertPeer({ id: 'b', slots: 1 })
    runToEnd(s, clock)
    expect(s.done).toBe(true)
    const report = s.report()
    expect(report.count).toBe(TRUE.count)
    expect(report.sum).toBe(TRUE.sum)
    expect(report.first).toBe(TRUE.first)
    expect(report.last).toBe(TRUE.last)
    expect(report.shards).toBeGreaterThan(6)
    expect(report.peers.reduce((n, p) => n + p.shards, 0)).toBe(report.shards)
    expect(report.retries).toBe(0)
  })

  it('keeps at most slots + 1 shards in flight per peer (bounded prefetch)', () => {
    const clock = new FakeClock()
    const s = makeScheduler(clock, { from: FROM, to: TO })
    s.upsertPeer({ id: 'a', slots: 2 })
    s.upsertPeer({ id: 'b', slots: 1 })
    const first = s.nextAssignments()
    expect(first.filter(a => a.peer === 'a')).toHaveLength(3)
    expect(first.filter(a => a.peer === 'b')).toHaveLength(2)
    expect(s.nextAssignments()).toHaveLength(0)
  })

  it('re-queues a shard whose lease expired; the first valid result wins, the late one is dropped', () => {
    const clock = new FakeClock()
    const s = makeScheduler(clock, { from: FROM, to: TO, leaseFloorMs: 1000, leaseFactor: 3 })
    s.upsertPeer({ id: 'slow', slots: 1 })
    const [stuck] = s.nextAssignments().filter(a => a.peer === 'slow')
    s.upsertPeer({ id: 'fast', slots: 1 })
    clock.advance(60_000)
    s.tick()
    const retry = s.nextAssignments().find(a => a.range.index === stuck.range.index)
    if (retry == null) throw new Error('no retry of the stuck shard')
    expect(retry.peer).toBe('fast')
    // The old attempt answers first after all: accepted, and the copy is cancelled.
    const outcome = s.result(stuck.attempt, truth(stuck.range.from, stuck.range.to), 1)
    expect(outcome.cancel).toContain(retry.attempt)
    s.result(retry.attempt, truth(stuck.range.from, stuck.range.to), 1)
    expect(s.report().duplicatesDropped).toBe(1)
    expect(s.report().reassigned).toBeGreaterThanOrEqual(1)
  })

  it('finishes around a hung peer; expired leases never count towards the retry cap', () => {
    const clock = new FakeClock()
    const s = makeScheduler(clock, { from: FROM, to: TO, maxFailures: 1 })
    s.upsertPeer({ id: 'hung', slots: 1 })
    s.upsertPeer({ id: 'ok', slots: 1 })
    runToEnd(s, clock, { answer: a => a.peer === 'hung' ? 'hang' : truth(a.range.from, a.range.to) })
    expect(s.error).toBeNull()
    expect(s.report().count).toBe(TRUE.count)
    expect(s.report().reassigned).toBeGreaterThan(0)
  })

  it('renews a lease on progress', () => {
    const clock = new FakeClock()
    const s = makeScheduler(clock, { from: FROM, to: TO, leaseFloorMs: 1000, leaseFactor: 1 })
    s.upsertPeer({ id: 'a', slots: 1 })
    const started = s.nextAssignments()
    for (let i = 0; i < 20; i++) {
      clock.advance(500)
      for (const a of started) s.progress(a.attempt, i === 0 ? null : BigInt(i))
      s.tick()
    }
    expect(s.report().retries).toBe(0)
  })

  it('does not expire leases for time the coordinator itself was paused', () => {
    const clock = new FakeClock()
    const s = makeScheduler(clock, { from: FROM, to: TO, leaseFloorMs: 1000, leaseFactor: 1 })
    s.upsertPeer({ id: 'a', slots: 1 })
    s.nextAssignments()
    clock.advance(10_000)
    s.extendLeases(10_000)
    s.tick()
    expect(s.report().retries).toBe(0)
  })

  it('reassigns the shards of a dead peer and cancels its calls', () => {
    const clock = new FakeClock()
    const s = makeScheduler(clock, { from: FROM, to: TO })
    s.upsertPeer({ id: 'a', slots: 1 })
    s.upsertPeer({ id: 'doomed', slots: 1 })
    const started = s.nextAssignments()
    const onDoomed = started.filter(a => a.peer === 'doomed')
    expect(onDoomed.length).toBeGreaterThan(0)
    const { cancel } = s.removePeer('doomed')
    expect(cancel.sort()).toEqual(onDoomed.map(a => a.attempt).sort())
    runToEnd(s, clock, { started, cancelled: cancel })
    const report = s.report()
    expect(report.count).toBe(TRUE.count)
    expect(report.reassigned).toBe(onDoomed.length)
    expect(report.peers.find(p => p.id === 'doomed')?.shards ?? 0).toBe(0)
  })

  it('launches a backup copy of a straggler on another peer and cancels the loser', () => {
    const clock = new FakeClock()
    const s = makeScheduler(clock, { from: FROM, to: TO, leaseFloorMs: 3_600_000 })
    s.upsertPeer({ id: 'a', slots: 1 })
    s.upsertPeer({ id: 'sloth', slots: 1 })
    let slothFirst: number | undefined
    const seen = runToEnd(s, clock, {
      // The sloth's first shard takes forever; everything else 500 ms.
      msOf: a => { if (a.peer === 'sloth' && slothFirst == null) slothFirst = a.attempt; return a.attempt === slothFirst ? 1e9 : 500 }
    })
    const backup = seen.find(a => a.backup)
    expect(backup).toBeDefined()
    expect(backup?.peer).toBe('a')
    expect(s.report()).toMatchObject({ count: TRUE.count, backups: 1 })
  })

  it('fails with a named error naming the shard after 3 failures of it', () => {
    const clock = new FakeClock()
    const s = makeScheduler(clock, { from: FROM, to: TO, peerBackoffMs: 0 })
    s.upsertPeer({ id: 'a', slots: 1 })
    s.upsertPeer({ id: 'b', slots: 1 })
    runToEnd(s, clock, { answer: a => a.range.index === 2 ? 'fail' : truth(a.range.from, a.range.to) })
    expect(s.error?.name).toBe('ShardRetryLimitError')
    expect(s.error?.message).toMatch(/^shard 2 \[\d+, \d+\] failed 3 times/)
  })

  it('a shard whose peers are lost again and again (cuts, deaths) is not failed by the retry cap', () => {
    const clock = new FakeClock()
    const s = makeScheduler(clock, { from: FROM, to: TO, peerBackoffMs: 0 })
    for (const id of ['a', 'b', 'c']) s.upsertPeer({ id, slots: 1 })
    // Five times the peer holding shard 0 is lost (dead, or cut off and declared dead) and
    // another member turns up: each loss takes the shard back, none is the shard's fault.
    for (let cut = 0; cut < 5; cut++) {
      const holder = s.nextAssignments().find(a => a.range.index === 0)?.peer
      if (holder == null) throw new Error('shard 0 was not handed out again')
      s.removePeer(holder)
      expect(s.error).toBeNull()
      s.upsertPeer({ id: `new${cut}`, slots: 1 })
    }
    // And the calls of a peer that became unreachable fail with the rpc's connection errors.
    for (const a of s.nextAssignments().filter(a => a.range.index === 0)) s.fail(a.attempt, 'ConnectionLostError: rpc stream closed', 'peer')
    expect(s.error).toBeNull()
    runToEnd(s, clock)
    expect(s.error).toBeNull()
    expect(s.report().count).toBe(TRUE.count)
  })

  it('a shard lost with its peer maxPeerLosses times still ends the job (a shard that brings its peers down)', () => {
    const clock = new FakeClock()
    const s = makeScheduler(clock, { from: FROM, to: TO, peerBackoffMs: 0, maxPeerLosses: 4 })
    for (const id of ['a', 'b']) s.upsertPeer({ id, slots: 1 })
    // Every peer that takes shard 0 goes down with it; fresh members keep arriving.
    for (let loss = 0; loss < 4 && s.error == null; loss++) {
      const a = s.nextAssignments().find(a => a.range.index === 0)
      if (a == null) throw new Error('shard 0 was not handed out again')
      s.fail(a.attempt, 'ConnectionLostError: peer closed the rpc stream', 'peer')
      s.removePeer(a.peer)
      s.upsertPeer({ id: `new${loss}`, slots: 1 })
    }
    expect(s.error?.name).toBe('ShardRetryLimitError')
    expect(s.error?.message).toMatch(/^shard 0 \[\d+, \d+\] lost its peer 4 times \(last: ConnectionLostError/)
  })

  it('rejects an implausible result and retries the shard elsewhere', () => {
    const clock = new FakeClock()
    const s = makeScheduler(clock, { from: FROM, to: TO, peerBackoffMs: 0 })
    s.upsertPeer({ id: 'a', slots: 1 })
    s.upsertPeer({ id: 'broken', slots: 1 })
    runToEnd(s, clock, { answer: a => a.peer === 'broken' ? { count: 10n ** 12n, sum: 0n, first: null, last: null } : truth(a.range.from, a.range.to) })
    expect(s.report().count).toBe(TRUE.count)
    expect(s.report().retries).toBeGreaterThan(0)
  })

  it('verify mode: two peers per shard, a third on disagreement, the liar is named', () => {
    const clock = new FakeClock()
    const s = makeScheduler(clock, { from: FROM, to: TO, verify: true })
    for (const id of ['honest1', 'honest2', 'liar']) s.upsertPeer({ id, slots: 1 })
    const seen = runToEnd(s, clock, {
      answer: a => {
        const t = truth(a.range.from, a.range.to)
        return a.peer === 'liar' ? { ...t, count: t.count + 1n } : t
      }
    })
    const report = s.report()
    expect(report.count).toBe(TRUE.count)
    expect(report.liars).toEqual(['liar'])
    const perShard = new Map<number, Set<string>>()
    for (const a of seen) perShard.set(a.range.index, (perShard.get(a.range.index) ?? new Set()).add(a.peer))
    for (const peers of perShard.values()) expect(peers.size).toBeGreaterThanOrEqual(2)
  })
})

