import { describe, expect, it } from 'vitest'
import { MemberTable } from '../../../node/membership/member-table.ts'
import { isRefused } from '../../../node/membership/reachability-probe.ts'
import { timingFor } from '../../../node/membership/timing.ts'
import { BOB, heartbeat } from '../../utils/heartbeat.ts'

const timing = timingFor(1000)

/**
 * A closed connection followed by failed pings: a refused dial means the process is gone
 * (dead at once); a timed-out ping is what a starved but living process looks like, so it
 * only makes the member suspect and leaves it the suspicion timeout to refute.
 */
describe('verdict after a closed connection and failed pings', () => {
  it('refused: dead at once', () => {
    const now = 0
    const table = new MemberTable({ timing, now: () => now })
    table.applyHeartbeat(heartbeat())
    expect(table.markUnreachable(BOB, 'dead')).toMatchObject({ from: 'alive', to: 'dead', cause: 'unreachable' })
  })

  it('timed out: suspect, then alive again when it beats, or dead after the suspicion timeout', () => {
    let now = 0
    const table = new MemberTable({ timing, now: () => now })
    table.applyHeartbeat(heartbeat())
    expect(table.markUnreachable(BOB, 'suspect')).toMatchObject({ from: 'alive', to: 'suspect', cause: 'unreachable' })
    // A second timed-out probe does not restart or repeat the suspicion.
    expect(table.markUnreachable(BOB, 'suspect')).toBeNull()
    now += 500
    expect(table.applyHeartbeat(heartbeat({ seq: 2 }))).toMatchObject({ from: 'suspect', to: 'alive' })

    expect(table.markUnreachable(BOB, 'suspect')?.to).toBe('suspect')
    const seen: string[] = []
    for (let i = 0; i < 25; i++) {
      now += timing.tickMs
      for (const t of table.tick()) seen.push(`${t.from}->${t.to}:${t.cause}`)
    }
    expect(seen).toEqual(['suspect->dead:suspicion-timeout'])
  })

  it('only a refusal on every address counts as refused', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4001'), { code: 'ECONNREFUSED' })
    const timeout = Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' })
    expect(isRefused(refused)).toBe(true)
    expect(isRefused(new Error('dial failed', { cause: refused }))).toBe(true)
    expect(isRefused(new AggregateError([refused, refused], 'all dials failed'))).toBe(true)
    expect(isRefused(new AggregateError([refused, timeout], 'all dials failed'))).toBe(false)
    expect(isRefused(timeout)).toBe(false)
    expect(isRefused(new AggregateError([], 'no addresses'))).toBe(false)
    expect(isRefused(undefined)).toBe(false)
  })
})
