/**
 * A chat message, as it travels in a room (gossip), in a direct message and in a sync
 * batch. The author signs it with its peer key, so a message relayed by anyone (a gossip
 * hop, an anti-entropy answer) can still be checked against the sender it claims.
 */
export interface UnsignedChatMessage {
  v: number
  /** The room; '' for a direct message. */
  room: string
  /** The recipient's peer id for a direct message; null in a room. */
  to: string | null
  /** The author's peer id. */
  from: string
  nick: string
  /** Hybrid logical clock: wall ms and logical counter. */
  ts: number
  lc: number
  /**
   * The author's count of its messages in this room: 1, 2, 3… with no gap. Anti-entropy
   * compares these per sender; 0 for direct messages (acknowledged, not synced).
   */
  seq: number
  text: string
}

export interface ChatMessage extends UnsignedChatMessage {
  /** Ed25519 signature of the canonical bytes, base64. */
  sig: string
  /** Content id: hash of the canonical bytes, computed by every receiver, never trusted. */
  id: string
}

/** The wire shape: the message without its id, which the receiver computes itself. */
export type WireChatMessage = Omit<ChatMessage, 'id'>
