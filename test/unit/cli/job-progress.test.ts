import { describe, expect, it } from 'vitest'
import { countSentence, shardsDoneLine } from '../../../cli/job-progress.ts'

const BOB = `12D3KooW${'b'.repeat(44)}`
const DAN = `12D3KooW${'d'.repeat(44)}`
const STRANGER = `12D3KooW${'s'.repeat(38)}XqJ1HK`
const known: Record<string, { nick: string, state: string }> = { [BOB]: { nick: 'bob', state: 'alive' }, [DAN]: { nick: 'dan\u001b[2J', state: 'dead' } }
const lookup = (id: string) => known[id]

describe('job progress in words', () => {
  it('names peers by nick, says the numbers are shards done, marks a peer that died', () => {
    expect(shardsDoneLine([{ id: BOB, shards: 4 }, { id: DAN, shards: 2 }, { id: STRANGER, shards: 1 }, { id: 'idle', shards: 0 }], lookup))
      .toBe('shards done: bob 4 · dan\\x1b[2J 2 (dead, its shards reassigned) · …XqJ1HK 1')
    expect(shardsDoneLine([], lookup)).toBe('no shard done yet')
  })

  it('says the result in one sentence, with plurals, what was repaired and how it was verified', () => {
    const report = { from: '2', to: '2', count: '1', seconds: 0.01, shards: 1, peers: [{ id: BOB, shards: 1 }], retries: 0, reassigned: 0, liars: [] }
    expect(countSentence(report, { verify: false, lookup })).toBe('1 prime in [2, 2] · 0.01 s · 1 shard on 1 peer · 0 retries')
    const repaired = { ...report, count: '78498', to: '1000000', shards: 8, peers: [{ id: BOB, shards: 5 }, { id: DAN, shards: 3 }], retries: 2, reassigned: 2, liars: [DAN] }
    expect(countSentence(repaired, { verify: true, lookup })).toBe('78498 primes in [2, 1000000] · 0.01 s · 8 shards on 2 peers · 2 retries · ' +
      '2 shards reassigned from lost or slow peers · verified: every shard counted by two different peers until two agreed; disagreeing: dan\\x1b[2J')
    expect(countSentence({ ...repaired, liars: [] }, { verify: true, lookup })).toMatch(/verified: every shard counted by two different peers, who agreed$/)
  })
})
