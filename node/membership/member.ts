import type { Heartbeat } from '../../protocols/membership/index.ts'

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left'

/**
 * What this node knows of one peer: the fields of its newest fresh heartbeat (`seq` is that
 * heartbeat's number in its incarnation), plus the local view of it.
 */
export interface Member extends Omit<Heartbeat, 'type' | 'v'> {
  state: MemberState
  /** Local clock time of the newest heartbeat (never the sender's clock). */
  lastSeenAt: number
  /** Local clock time of the last state change. */
  stateSince: number
}

/** Why a member changed state, for logs and the chat's join/leave notices. */
export type TransitionCause =
  | 'heartbeat' // first heartbeat, or a fresh one after suspect/dead
  | 'refuted' // a higher incarnation answered a suspicion
  | 'missed-heartbeats' // no heartbeat within the suspect timeout
  | 'suspicion-timeout' // suspect for longer than the suspicion timeout
  | 'claim' // another member reported it suspect or dead
  | 'unreachable' // its connection closed and a direct ping failed (refused: dead; timed out: suspect)
  | 'leave' // it announced a clean leave

export interface MemberTransition {
  member: Member
  from: MemberState | null
  to: MemberState
  cause: TransitionCause
  /**
   * A death by suspicion timeout of a suspicion this node took from another's claim: the
   * claim's author gossips the death, this node only records it.
   */
  secondhand?: boolean
}

/**
 * The role of a member that joins for one job and leaves again (the temporary node of
 * `mesh primes count` run where no node is running): chats do not announce it.
 */
export const TRANSIENT_ROLE = 'transient'
