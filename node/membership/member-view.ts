import type { EventEmitter } from 'node:events'
import type { MembershipEvents } from './events.ts'
import type { Member } from './member.ts'

/**
 * What the other services read of the member table: this node as a member, the others, and
 * one by id. Narrower than the membership service, so a service can be given a fixed list
 * in a unit test, and cannot change the table it reads.
 */
export interface MemberView {
  /** This node, in the same shape as the others (always alive). */
  selfMember: () => Member
  /** Every other member the table holds, whatever its state; this node is not among them. */
  members: () => readonly Member[]
  member: (id: string) => Member | undefined
}

/**
 * The membership events (joins, suspicions, deaths, leaves), to follow and unfollow. In
 * Node's own typing, so a plain `new EventEmitter<MembershipEvents>()` stands in for the
 * service in a unit test.
 */
export type MembershipEventsSource = Pick<EventEmitter<MembershipEvents>, 'on' | 'off'>
