import { terminalSafe } from '../terminal-safe.ts'
import type { ChatNotice } from '../../node/chat/chat-events.ts'
import type { StoredMessage } from '../../node/chat/chat-store.ts'

/** Text from a peer, safe at a terminal (controls shown escaped), continuation lines indented. */
export function sanitize (text: string): string {
  return terminalSafe(text).replace(/\n/g, '\n    ')
}

export function clock (ms: number): string {
  const d = new Date(ms)
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map(n => String(n).padStart(2, '0')).join(':')
}

/**
 * One line per message: `12:00:01 bob: hi` in the current room, `12:00:01 [dev] bob: hi`
 * in another room, `12:00:01 *bob* hi` for a direct message.
 */
export function messageLine (m: StoredMessage, label: string, currentRoom: string, selfId: string, recipientLabel?: string): string {
  const time = clock(m.ts)
  if (m.to != null) {
    return m.from === selfId ? `${time} -> *${recipientLabel ?? m.to}* ${sanitize(m.text)}` : `${time} *${label}* ${sanitize(m.text)}`
  }
  const where = m.room === currentRoom ? '' : `[${m.room}] `
  return `${time} ${where}${label}: ${sanitize(m.text)}`
}

export function noticeLine (n: ChatNotice, label: string): string {
  const what = n.kind === 'joined' ? 'joined' : n.kind === 'left' ? 'left' : `lost: ${n.reason ?? 'no heartbeat'}`
  return `${clock(n.at)} -- ${label} ${what}`
}
