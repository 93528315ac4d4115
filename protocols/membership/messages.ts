/**
 * Membership messages, as they travel on the gossip topic. The gossip layer signs every
 * message (StrictSign) and checks the signature; the receiver also checks that the signer
 * is the peer the message speaks for (see `signerOf`).
 */

export interface WorkerCapacity {
  total: number
  free: number
}

/** Published every heartbeat interval by every node. */
export interface Heartbeat {
  type: 'heartbeat'
  v: number
  id: string
  nick: string
  /** Bumped to refute a suspicion; starts at the node's start time so a restart outranks old claims. */
  incarnation: number
  /** Increases by one per heartbeat within an incarnation: tells a fresh heartbeat from a late copy. */
  seq: number
  workers: WorkerCapacity
  /** Work waiting for a free worker slot. */
  queue: number
  /** (busy slots + queued work) / total slots: what the balancer compares. */
  load: number
  services: string[]
  roles: string[]
  version: string
  addrs: string[]
}

/** "I think `target` at `incarnation` is suspect / dead", gossiped so others look too. */
export interface MemberClaim {
  type: 'suspect' | 'dead'
  v: number
  /** The claiming node; must be the signer. */
  by: string
  target: string
  incarnation: number
}

/** A clean leave: peers show "left", not "dead". */
export interface Leave {
  type: 'leave'
  v: number
  id: string
  incarnation: number
}

export type MembershipMessage = Heartbeat | MemberClaim | Leave

/** The peer that must have signed this message for it to be believed. */
export function signerOf (message: MembershipMessage): string {
  switch (message.type) {
    case 'heartbeat':
    case 'leave':
      return message.id
    case 'suspect':
    case 'dead':
      return message.by
  }
}
