import { resultKey } from './result-check.ts'
import type { ShardResult } from './types.ts'

export interface Vote {
  peer: string
  result: ShardResult
}

/** BOINC's min_quorum for verify mode: two peers must agree on every shard. */
export const VERIFY_QUORUM = 2
/** Copies of one shard before giving up on agreement (BOINC max_total_results). */
export const MAX_VERIFY_COPIES = 5

export type Tally =
  | { kind: 'agreed', result: ShardResult, peer: string, dissenters: string[] }
  | { kind: 'open' }

/** Votes come from distinct peers; the first result with VERIFY_QUORUM votes wins. */
export function tally (votes: Vote[]): Tally {
  const groups = new Map<string, Vote[]>()
  for (const vote of votes) {
    const key = resultKey(vote.result)
    const group = groups.get(key) ?? []
    group.push(vote)
    groups.set(key, group)
  }
  for (const group of groups.values()) {
    if (group.length >= VERIFY_QUORUM) {
      const winners = new Set(group.map(v => v.peer))
      return {
        kind: 'agreed',
        result: group[0].result,
        peer: group[0].peer,
        dissenters: votes.filter(v => !winners.has(v.peer)).map(v => v.peer)
      }
    }
  }
  return { kind: 'open' }
}
