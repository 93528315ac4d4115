import type { Heartbeat, Leave, MemberClaim } from '../../protocols/membership/index.ts'
import type { Member, MemberState, MemberTransition, TransitionCause } from './member.ts'
import type { MembershipTiming } from './timing.ts'

export interface MemberTableInit {
  timing: MembershipTiming
  /** The local clock in ms; injected so the state machine runs under a fake clock in tests. */
  now: () => number
  /** Members kept at most. Default MAX_MEMBERS. */
  maxMembers?: number
  /** A heartbeat of a new member was refused because the table is full of live members. */
  onFull?: () => void
}

/**
 * A LAN mesh has tens of members; this is far above that. Peer ids cost nothing to make, so
 * without a cap one peer signing heartbeats for fresh ids would grow the table (kept for an
 * hour once dead) without end. When full, the longest-gone dead or left member makes room.
 */
export const MAX_MEMBERS = 1024

/**
 * The member state machine, SWIM style, with no I/O: feed it heartbeats, claims, leaves and
 * clock ticks; it returns the transitions. The service around it does the network side.
 *
 * Ordering: a heartbeat is fresh when its (incarnation, seq) is newer than the last one seen.
 * A fresh heartbeat is proof of life and makes the member alive whatever the local state.
 * A claim (suspect/dead) applies when its incarnation is at least the member's, so a node
 * refutes a claim by publishing a heartbeat with a higher incarnation; a dead claim about a
 * member heard from within suspectAfterMs makes it suspect, not dead. A leave ends the
 * incarnation it names: nothing but a newer incarnation brings that member back.
 */
export class MemberTable {
  private readonly members = new Map<string, Member>()
  private readonly timing: MembershipTiming
  private readonly now: () => number
  private readonly maxMembers: number
  private readonly onFull: () => void
  private lastTickAt: number
  /** Members suspect on another node's claim rather than this node's own evidence. */
  private readonly heardSuspicions = new Set<string>()

  constructor (init: MemberTableInit) {
    this.timing = init.timing
    this.now = init.now
    this.maxMembers = init.maxMembers ?? MAX_MEMBERS
    this.onFull = init.onFull ?? (() => {})
    this.lastTickAt = init.now()
  }

  get (id: string): Member | undefined {
    return this.members.get(id)
  }

  list (): Member[] {
    return [...this.members.values()]
  }

  applyHeartbeat (hb: Heartbeat): MemberTransition | null {
    const now = this.now()
    const known = this.members.get(hb.id)
    if (known == null) {
      if (this.members.size >= this.maxMembers && !this.forgetLongestGone()) {
        this.onFull()
        return null
      }
      const member: Member = { ...fieldsOf(hb), state: 'alive', lastSeenAt: now, stateSince: now }
      this.members.set(hb.id, member)
      return { member, from: null, to: 'alive', cause: 'heartbeat' }
    }
    const newer = hb.incarnation > known.incarnation ||
      (hb.incarnation === known.incarnation && hb.seq > known.seq)
    if (!newer) return null
    // A leave ends its incarnation: a late heartbeat of that incarnation does not revive it.
    if (known.state === 'left' && hb.incarnation <= known.incarnation) return null
    const refutes = hb.incarnation > known.incarnation
    Object.assign(known, fieldsOf(hb), { lastSeenAt: now })
    if (known.state === 'alive') return null
    return this.transition(known, 'alive', refutes && known.state === 'suspect' ? 'refuted' : 'heartbeat')
  }

  applyClaim (claim: MemberClaim): MemberTransition | null {
    const known = this.members.get(claim.target)
    if (known == null || claim.incarnation < known.incarnation) return null
    if (known.state === 'left' || known.state === 'dead') return null
    // Another node's verdict of death about a member this node heard from within the time it
    // would take to suspect it itself counts as a suspicion: the member hears the claim too
    // and refutes it, or this node's own timer ends it. After a partition heals, each side's
    // verdicts about the other reach nodes that were never cut from those members, and were
    // believed: a death of a member heard from a second ago.
    // Suspect already (an earlier claim) counts too: a suspicion claim and a death claim of the
    // other side arrive together.
    const heardLately = this.now() - known.lastSeenAt <= this.timing.suspectAfterMs
    if (claim.type === 'suspect' || heardLately) {
      if (known.state === 'suspect') return null
      return this.transition(known, 'suspect', 'claim')
    }
    return this.transition(known, 'dead', 'claim')
  }

  applyLeave (leave: Leave): MemberTransition | null {
    const known = this.members.get(leave.id)
    if (known == null || leave.incarnation < known.incarnation || known.state === 'left') return null
    known.incarnation = leave.incarnation
    return this.transition(known, 'left', 'leave')
  }

  /**
   * The connection closed and a direct ping failed. `verdict` dead: the dial was refused, a
   * crash. `verdict` suspect: the ping timed out, which a paused or starved process also
   * causes, so it gets the usual suspicion timeout to refute.
   */
  markUnreachable (id: string, verdict: 'dead' | 'suspect' = 'dead'): MemberTransition | null {
    const known = this.members.get(id)
    if (known == null || known.state === 'dead' || known.state === 'left') return null
    if (verdict === 'suspect' && known.state === 'suspect') return null
    return this.transition(known, verdict, 'unreachable')
  }

  /**
   * Advances the timers. If the local process itself was paused (SIGSTOP, a long GC, a
   * suspended laptop), every peer looks silent; that is our fault, not theirs, so a late
   * tick restarts the silence timers instead of suspecting everybody.
   */
  tick (): MemberTransition[] {
    const now = this.now()
    const gap = now - this.lastTickAt
    this.lastTickAt = now
    const paused = gap > this.timing.heartbeatMs
    const transitions: MemberTransition[] = []
    for (const member of this.members.values()) {
      if (paused && (member.state === 'alive' || member.state === 'suspect')) {
        member.lastSeenAt = now
        if (member.state === 'suspect') member.stateSince = now
        continue
      }
      if (member.state === 'alive' && now - member.lastSeenAt > this.timing.suspectAfterMs) {
        transitions.push(this.transition(member, 'suspect', 'missed-heartbeats'))
      } else if (member.state === 'suspect' && now - member.stateSince > this.timing.suspicionTimeoutMs) {
        const secondhand = this.heardSuspicions.has(member.id)
        transitions.push({ ...this.transition(member, 'dead', 'suspicion-timeout'), ...(secondhand ? { secondhand } : {}) })
      } else if ((member.state === 'dead' || member.state === 'left') && now - member.stateSince > this.timing.forgetAfterMs) {
        this.members.delete(member.id)
        this.heardSuspicions.delete(member.id)
      }
    }
    return transitions
  }

  /** Drops the dead or left member gone the longest; false if every member is alive or suspect. */
  private forgetLongestGone (): boolean {
    let oldest: Member | undefined
    for (const m of this.members.values()) {
      if ((m.state === 'dead' || m.state === 'left') && (oldest == null || m.stateSince < oldest.stateSince)) oldest = m
    }
    if (oldest == null) return false
    this.members.delete(oldest.id)
    this.heardSuspicions.delete(oldest.id)
    return true
  }

  private transition (member: Member, to: MemberState, cause: TransitionCause): MemberTransition {
    if (to === 'suspect' && cause === 'claim') this.heardSuspicions.add(member.id)
    else this.heardSuspicions.delete(member.id)
    const from = member.state
    member.state = to
    member.stateSince = this.now()
    return { member, from, to, cause }
  }
}

function fieldsOf (hb: Heartbeat): Omit<Member, 'state' | 'lastSeenAt' | 'stateSince'> {
  return {
    id: hb.id,
    nick: hb.nick,
    incarnation: hb.incarnation,
    seq: hb.seq,
    workers: { ...hb.workers },
    queue: hb.queue,
    load: hb.load,
    services: [...hb.services],
    roles: [...hb.roles],
    version: hb.version,
    addrs: [...hb.addrs]
  }
}
