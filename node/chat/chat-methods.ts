import { pushable } from 'it-pushable'
import { DEFAULT_ROOM } from '../../protocols/chat/index.ts'
import type { ControlServer } from '../control/control-server.ts'
import type { ChatNotice } from './chat-events.ts'
import type { ChatService } from './chat-service.ts'
import { dmConversation, type StoredMessage } from './chat-store.ts'

export class InvalidChatParamsError extends Error {
  override name = 'InvalidChatParamsError'
}

/** `mesh chat history` shows at most this many messages unless asked for fewer. */
const DEFAULT_HISTORY_LIMIT = 100
const MAX_HISTORY_LIMIT = 100_000
/** Events a slow `chat tail` reader may fall behind by before the oldest are dropped. */
const MAX_TAIL_BACKLOG = 10_000

/**
 * A message as `mesh chat history --json` and `chat tail --json` show it. `label` is how to
 * show the sender: the nick, or `nick#abc123` when another known peer holds the same nick,
 * so a second peer calling itself "normal" does not pass for the real one.
 */
export function messageView (m: StoredMessage, label = m.nick): Record<string, unknown> {
  const view: Record<string, unknown> = { id: m.id, from: m.from, nick: m.nick, label, ts: m.ts, lc: m.lc, text: m.text }
  if (m.to != null) view.to = m.to
  return view
}

export function noticeText (n: ChatNotice, label = n.nick): string {
  if (n.kind === 'joined') return `${label} joined`
  if (n.kind === 'left') return `${label} left`
  return `${label} lost: ${n.reason ?? 'no heartbeat'}`
}

/** Control methods of the chat: what `mesh chat …` and `mesh dm` call. */
export function registerChatMethods (control: ControlServer, chat: ChatService): void {
  control.register('chat.send', async (params) => {
    const room = roomParam(params.room)
    const m = await chat.send(room, textParam(params.text))
    return { room, ...messageView(m, chat.peers.label(m.from, m.nick)) }
  })

  control.register('chat.dm', async (params) => {
    if (typeof params.to !== 'string' || params.to === '') throw new InvalidChatParamsError('to must name a peer')
    const { message, delivered } = await chat.dm(params.to, textParam(params.text))
    return { ...messageView(message, chat.peers.label(message.from, message.nick)), delivered }
  })

  control.register('chat.history', async (params) => {
    const { conversation, name } = conversationParam(chat, params)
    // Reading a room joins it: from then on the node collects it, and anti-entropy pulls its past.
    const joinedNow = !conversation.startsWith('@') && !chat.rooms().includes(conversation)
    if (!conversation.startsWith('@')) chat.join(conversation)
    const limit = params.limit == null ? DEFAULT_HISTORY_LIMIT : params.limit
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_LIMIT) throw new InvalidChatParamsError(`limit must be from 1 to ${MAX_HISTORY_LIMIT}`)
    // `received: true` adds when each message reached this node (for benchmarks).
    const label = chat.peers.labeller()
    const labelled = (m: StoredMessage): Record<string, unknown> => messageView(m, label(m.from, m.nick))
    const view = params.received === true ? (m: StoredMessage) => ({ ...labelled(m), receivedAt: m.receivedAt }) : labelled
    const messages = chat.history(conversation, limit).map(view)
    // `total`: all the node holds of it; `joinedNow`: this read joined the room, so its past is still on the way.
    return { room: name, messages, total: chat.store.count(conversation), ...(joinedNow ? { joinedNow: true } : {}) }
  })

  control.register('chat.tail', (params, signal) => {
    const { conversation, name } = conversationParam(chat, params)
    if (!conversation.startsWith('@')) chat.join(conversation)
    return tail(chat, conversation, name, signal)
  })

  control.register('chat.rooms', async () => ({
    rooms: chat.rooms().map(room => ({ room, messages: chat.store.count(room) }))
  }))

  control.register('chat.join', async (params) => {
    chat.join(roomParam(params.room))
    return { rooms: chat.rooms() }
  })

  control.register('chat.leave', async (params) => {
    chat.leave(roomParam(params.room))
    return { rooms: chat.rooms() }
  })
}

function roomParam (value: unknown): string {
  if (value == null) return DEFAULT_ROOM
  if (typeof value !== 'string') throw new InvalidChatParamsError('room must be a string')
  return value
}

function textParam (value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new InvalidChatParamsError('text must be a non-empty string')
  return value
}

/** A room, or a DM conversation: `{dm: NICK}` or `{room: "@NICK"}`. */
function conversationParam (chat: ChatService, params: Record<string, unknown>): { conversation: string, name: string } {
  const dm = typeof params.dm === 'string' ? params.dm : typeof params.room === 'string' && params.room.startsWith('@') ? params.room.slice(1) : undefined
  if (dm != null) {
    const peer = chat.peers.resolve(dm)
    return { conversation: dmConversation(peer.id), name: `@${peer.nick}` }
  }
  const room = roomParam(params.room)
  return { conversation: room, name: room }
}

/**
 * Streams new messages of one conversation and every notice until the client goes away.
 * A reader more than MAX_TAIL_BACKLOG events behind misses the newest until it catches up:
 * what it already has stays in order, and a slow reader cannot grow the node's memory.
 */
function tail (chat: ChatService, conversation: string, name: string, signal: AbortSignal): AsyncIterable<unknown> {
  const events = pushable<unknown>({
    objectMode: true,
    onEnd: () => {
      chat.off('message', onMessage)
      chat.off('notice', onNotice)
      signal.removeEventListener('abort', onAbort)
    }
  })
  const push = (event: unknown): void => {
    if (events.readableLength < MAX_TAIL_BACKLOG) events.push(event)
  }
  const onMessage = (m: StoredMessage): void => {
    if (m.conversation === conversation) push({ type: 'message', room: name, ...messageView(m, chat.peers.label(m.from, m.nick)) })
  }
  const onNotice = (n: ChatNotice): void => {
    push({ type: 'notice', kind: n.kind, peer: n.peer, nick: n.nick, reason: n.reason, at: n.at, text: noticeText(n) })
  }
  const onAbort = (): void => { events.end() }
  chat.on('message', onMessage)
  chat.on('notice', onNotice)
  signal.addEventListener('abort', onAbort, { once: true })
  if (signal.aborted) events.end()
  return events
}
