import { describe, expect, it } from 'vitest'
import { MemberTable } from '../../../node/membership/member-table.ts'
import { timingFor } from '../../../node/membership/timing.ts'
import { BOB, heartbeat } from '../../utils/heartbeat.ts'

const timing = timingFor(1000)

/** A member table on a fake clock that moves only when the test says so, ticking as it goes. */
function fakeClockTable (): { table: MemberTable, advance: (ms: number) => string[] } {
  let now = 0
  const table = new MemberTable({ timing, now: () => now })
  const advance = (ms: number): string[] => {
    const seen: string[] = []
    const end = now + ms
    while (now < end) {
      now = Math.min(end, now + timing.tickMs)
      for (const t of table.tick()) seen.push(`${t.from}->${t.to}:${t.cause}`)
    }
    return seen
  }
  return { table, advance }
}

describe('member table under a fake clock', () => {
  it('a first heartbeat adds the member alive', () => {
    const { table } = fakeClockTable()
    const t = table.applyHeartbeat(heartbeat())
    expect(t).toMatchObject({ from: null, to: 'alive', cause: 'heartbeat' })
    expect(table.get(BOB)?.nick).toBe('bob')
  })

  it('stays alive while heartbeats keep coming', () => {
    const { table, advance } = fakeClockTable()
    for (let seq = 1; seq <= 30; seq++) {
      table.applyHeartbeat(heartbeat({ seq }))
      expect(advance(1000)).toEqual([])
    }
    expect(table.get(BOB)?.state).toBe('alive')
  })

  it('suspect after missed heartbeats, dead after the suspicion timeout', () => {
    const { table, advance } = fakeClockTable()
    table.applyHeartbeat(heartbeat())
    expect(advance(timing.suspectAfterMs)).toEqual([])
    expect(advance(timing.tickMs)).toEqual(['alive->suspect:missed-heartbeats'])
    expect(advance(timing.suspicionTimeoutMs)).toEqual([])
    expect(advance(timing.tickMs)).toEqual(['suspect->dead:suspicion-timeout'])
    expect(table.get(BOB)?.state).toBe('dead')
  })

  it('a fresh heartbeat during the suspicion makes it alive again', () => {
    const { table, advance } = fakeClockTable()
    table.applyHeartbeat(heartbeat({ seq: 1 }))
    advance(timing.suspectAfterMs + timing.tickMs)
    expect(table.get(BOB)?.state).toBe('suspect')
    expect(table.applyHeartbeat(heartbeat({ seq: 2 }))).toMatchObject({ from: 'suspect', to: 'alive', cause: 'heartbeat' })
  })

  it('a late copy of an old heartbeat is not proof of life', () => {
    const { table, advance } = fakeClockTable()
    table.applyHeartbeat(heartbeat({ seq: 5 }))
    advance(timing.suspectAfterMs + timing.tickMs)
    expect(table.applyHeartbeat(heartbeat({ seq: 4 }))).toBeNull()
    expect(table.applyHeartbeat(heartbeat({ seq: 5 }))).toBeNull()
    expect(table.get(BOB)?.state).toBe('suspect')
  })

  it('refutation: a higher incarnation answers a suspect claim', () => {
    const { table } = fakeClockTable()
    table.applyHeartbeat(heartbeat({ incarnation: 100, seq: 7 }))
    expect(table.applyClaim({ type: 'suspect', v: 1, by: 'x', target: BOB, incarnation: 100 })).toMatchObject({ to: 'suspect', cause: 'claim' })
    expect(table.applyHeartbeat(heartbeat({ incarnation: 101, seq: 1 }))).toMatchObject({ from: 'suspect', to: 'alive', cause: 'refuted' })
    // The old claim arriving late no longer applies: it names an older incarnation.
    expect(table.applyClaim({ type: 'suspect', v: 1, by: 'x', target: BOB, incarnation: 100 })).toBeNull()
    expect(table.applyClaim({ type: 'dead', v: 1, by: 'x', target: BOB, incarnation: 100 })).toBeNull()
    expect(table.get(BOB)?.state).toBe('alive')
  })

  it('a dead claim at the current incarnation is believed of a member not heard lately; of one heard lately it is a suspicion', () => {
    const { table, advance } = fakeClockTable()
    table.applyHeartbeat(heartbeat())
    // Heard a moment ago (the other side of a healed cut declared it dead during the cut).
    expect(table.applyClaim({ type: 'dead', v: 1, by: 'x', target: BOB, incarnation: 100 })).toMatchObject({ from: 'alive', to: 'suspect', cause: 'claim' })
    // A second death claim changes nothing: still heard lately.
    expect(table.applyClaim({ type: 'dead', v: 1, by: 'y', target: BOB, incarnation: 100 })).toBeNull()
    // Not refuted: dead after the suspicion timeout, on this node's own clock.
    expect(advance(timing.suspicionTimeoutMs + 2 * timing.tickMs)).toEqual(['suspect->dead:suspicion-timeout'])

    // Silent long enough for this node to suspect it itself: a dead claim is believed at once.
    const other = fakeClockTable()
    other.table.applyHeartbeat(heartbeat())
    expect(other.advance(timing.suspectAfterMs + timing.tickMs)).toEqual(['alive->suspect:missed-heartbeats'])
    expect(other.table.applyClaim({ type: 'dead', v: 1, by: 'x', target: BOB, incarnation: 100 })).toMatchObject({ from: 'suspect', to: 'dead', cause: 'claim' })
  })

  it('left: a clean leave, not revived by late heartbeats of that incarnation', () => {
    const { table, advance } = fakeClockTable()
    table.applyHeartbeat(heartbeat({ seq: 3 }))
    expect(table.applyLeave({ type: 'leave', v: 1, id: BOB, incarnation: 100 })).toMatchObject({ from: 'alive', to: 'left', cause: 'leave' })
    expect(table.applyHeartbeat(heartbeat({ seq: 4 }))).toBeNull()
    // Neither timers nor a crash verdict turn a left member into a dead one.
    expect(advance(10_000)).toEqual([])
    expect(table.applyClaim({ type: 'dead', v: 1, by: 'x', target: BOB, incarnation: 100 })).toBeNull()
    expect(table.markUnreachable(BOB)).toBeNull()
    expect(table.get(BOB)?.state).toBe('left')
  })

  it('a leave wins over a crash verdict that raced it', () => {
    const { table } = fakeClockTable()
    table.applyHeartbeat(heartbeat())
    table.markUnreachable(BOB)
    expect(table.applyLeave({ type: 'leave', v: 1, id: BOB, incarnation: 100 })).toMatchObject({ from: 'dead', to: 'left' })
  })

  it('return of a dead peer: a restart (newer incarnation) is alive again', () => {
    const { table, advance } = fakeClockTable()
    table.applyHeartbeat(heartbeat({ incarnation: 100, seq: 9 }))
    advance(timing.suspectAfterMs + timing.suspicionTimeoutMs + 2 * timing.tickMs)
    expect(table.get(BOB)?.state).toBe('dead')
    expect(table.applyHeartbeat(heartbeat({ incarnation: 5000, seq: 1 }))).toMatchObject({ from: 'dead', to: 'alive', cause: 'heartbeat' })
  })

  it('a left peer that starts again is alive again', () => {
    const { table } = fakeClockTable()
    table.applyHeartbeat(heartbeat())
    table.applyLeave({ type: 'leave', v: 1, id: BOB, incarnation: 100 })
    expect(table.applyHeartbeat(heartbeat({ incarnation: 200, seq: 1 }))).toMatchObject({ from: 'left', to: 'alive' })
  })

  it('when this node itself was paused, silence is not held against the others', () => {
    const { table } = fakeClockTable()
    let now = 0
    const paused = new MemberTable({ timing, now: () => now })
    paused.applyHeartbeat(heartbeat())
    now = 30_000 // one tick, 30 s late: we were stopped
    expect(paused.tick()).toEqual([])
    expect(paused.get(BOB)?.state).toBe('alive')
    // After the grace, ordinary detection resumes.
    for (let i = 0; i < 30; i++) { now += timing.tickMs; paused.tick() }
    expect(paused.get(BOB)?.state).toBe('suspect')
    expect(table.list()).toEqual([])
  })

  it('forgets dead and left members after the reap time (ten minutes unless configured)', () => {
    expect(timingFor(1000).forgetAfterMs).toBe(10 * 60 * 1000)
    let now = 0
    const reaping = new MemberTable({ timing: timingFor(1000, 90_000), now: () => now })
    reaping.applyHeartbeat(heartbeat())
    reaping.applyLeave({ type: 'leave', v: 1, id: BOB, incarnation: heartbeat().incarnation })
    for (; now < 89_000; now += 1000) reaping.tick()
    expect(reaping.get(BOB)?.state).toBe('left')
    for (; now <= 91_000; now += 1000) reaping.tick()
    expect(reaping.get(BOB)).toBeUndefined()
  })

  it('forgets dead members after the reap time', () => {
    const { table, advance } = fakeClockTable()
    table.applyHeartbeat(heartbeat())
    table.markUnreachable(BOB)
    advance(timing.forgetAfterMs - 1000)
    expect(table.get(BOB)?.state).toBe('dead')
    advance(2000)
    expect(table.get(BOB)).toBeUndefined()
  })

  it('holds at most maxMembers: a flood of fresh ids is refused, the longest-gone member makes room', () => {
    let now = 0
    let refused = 0
    const table = new MemberTable({ timing, now: () => now, maxMembers: 3, onFull: () => { refused++ } })
    const id = (i: number): string => `12D3KooWFlood${String(i).padStart(39, 'x')}`
    for (let i = 0; i < 100; i++) table.applyHeartbeat(heartbeat({ id: id(i) }))
    expect(table.list().map(m => m.id)).toEqual([id(0), id(1), id(2)])
    expect(refused).toBe(97)
    // A member that is gone makes room for a new one; the live ones stay.
    now = 10
    table.markUnreachable(id(1))
    now = 20
    table.markUnreachable(id(0))
    expect(table.applyHeartbeat(heartbeat({ id: BOB }))).toMatchObject({ to: 'alive' })
    expect(table.list().map(m => m.id).sort()).toEqual([id(0), id(2), BOB].sort())
    expect(refused).toBe(97)
  })
})
