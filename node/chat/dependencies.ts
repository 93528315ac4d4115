import type { GossipSub } from '@libp2p/gossipsub'
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Member, MemberTransition } from '../membership/member.ts'

/**
 * What chat reads of the member table: who we are, who else there is. Membership's member
 * view has this shape; tests pass a plain object.
 */
export interface ChatMembers {
  selfMember: () => Member
  /** Every other member this node knows of, alive or gone. */
  members: () => Member[]
  member: (id: string) => Member | undefined
}

export type MemberChangeEvent = 'member:join' | 'member:update' | 'member:dead' | 'member:leave'

/** Membership's changes: a member joined, turned suspect or came back, died, or left. */
export interface MemberChanges {
  on: (event: MemberChangeEvent, listener: (t: MemberTransition) => void) => unknown
  off: (event: MemberChangeEvent, listener: (t: MemberTransition) => void) => unknown
}

/** The stream side of libp2p the chat protocols use (sync, DMs): serve one, dial one. */
export type ChatStreams = Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol' | 'getConnections'>

/** The gossip side: rooms are topics, checked by a validator before delivery. */
export type ChatPubSub = Pick<GossipSub, 'subscribe' | 'unsubscribe' | 'publish' | 'getSubscribers' | 'topicValidators' | 'addEventListener' | 'removeEventListener'>

/** All of libp2p the chat uses. */
export interface ChatLibp2p extends ChatStreams {
  peerId: PeerId
  services: { pubsub: ChatPubSub }
}
