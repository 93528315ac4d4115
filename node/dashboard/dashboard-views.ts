import type { StoredMessage } from '../chat/chat-store.ts'
import type { Member, MemberTransition } from '../membership/member.ts'

/** Why and when a member last changed state, as this node saw it. */
export interface MemberChange {
  at: number
  from: string | null
  to: string
  cause: string
}

/** A member as the page shows it; times are this node's wall-clock ms (the page gets `now` beside them). */
export function memberRow (m: Member, change?: MemberChange): Record<string, unknown> {
  return {
    id: m.id,
    nick: m.nick,
    state: m.state,
    lastSeenAt: m.lastSeenAt,
    stateSince: m.stateSince,
    workers: m.workers,
    queue: m.queue,
    load: m.load,
    roles: m.roles,
    version: m.version,
    services: m.services.length,
    cause: change?.cause ?? null
  }
}

export function memberEvent (t: MemberTransition, at: number): Record<string, unknown> {
  return { at, id: t.member.id, nick: t.member.nick, from: t.from, to: t.to, cause: t.cause }
}

/**
 * A chat message as the page gets it. `conversation` is the room, or `@<peer id>` of the
 * other party of a direct message; `label` tells apart two peers holding one nick.
 */
export function chatRow (m: StoredMessage, label: string): Record<string, unknown> {
  return { id: m.id, conversation: m.conversation, from: m.from, nick: m.nick, label, ts: m.ts, text: m.text, to: m.to ?? null }
}
