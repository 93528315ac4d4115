import type { MemberTransition } from './member.ts'

/**
 * Typed events of the membership service:
 * - `member:join`   a member is seen alive for the first time, or alive again after dead/left
 * - `member:update` a member turned suspect, or alive again after a suspicion
 * - `member:dead`   a member is declared dead
 * - `member:leave`  a member left cleanly
 * - `candidate`     a peer never seen connected was heard of (its id): a dial would admit it
 */
export interface MembershipEvents {
  'member:join': [MemberTransition]
  'member:update': [MemberTransition]
  'member:dead': [MemberTransition]
  'member:leave': [MemberTransition]
  candidate: [string]
}

export function eventFor (t: MemberTransition): Exclude<keyof MembershipEvents, 'candidate'> {
  switch (t.to) {
    case 'alive': return t.from === 'suspect' ? 'member:update' : 'member:join'
    case 'suspect': return 'member:update'
    case 'dead': return 'member:dead'
    case 'left': return 'member:leave'
  }
}
