import type { WorkerCapacity } from '../../protocols/membership/index.ts'

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left'

/** What this node knows of one peer. */
export interface Member {
  id: string
  nick: string
  state: MemberState
  incarnation: number
  /** Sequence number of the newest heartbeat seen in this incarnation. */
  seq: number
  /** Local clock time of the newest heartbeat (never the sender's clock). */
  lastSeenAt: number
  /** Local clock time of the last state change. */
  stateSince: number
  workers: WorkerCapacity
  queue: number
  load: number
  services: string[]
  roles: string[]
  version: string
  addrs: string[]
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
}
