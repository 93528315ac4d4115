import type { StoredMessage } from './chat-store.ts'

/** A membership change shown in the chat: a clean leave reads differently from a failure. */
export interface ChatNotice {
  kind: 'joined' | 'left' | 'lost'
  peer: string
  nick: string
  /** Why a peer was lost: "no heartbeat", "unreachable". */
  reason?: string
  /** Local wall-clock ms. */
  at: number
}

/**
 * - `message`  a message new to this node (sent here, or arrived by gossip, sync or DM)
 * - `notice`   a peer joined, left, or was lost
 */
export interface ChatEvents {
  message: [StoredMessage]
  notice: [ChatNotice]
}
