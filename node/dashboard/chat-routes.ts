import { DEFAULT_ROOM, MAX_TEXT_BYTES } from '../../protocols/chat/index.ts'
import { BadRequestError } from '../../protocols/gateway/line-request.ts'
import type { ChatService } from '../chat/chat-service.ts'
import { dmConversation } from '../chat/chat-store.ts'
import { GatewayError } from '../gateway/gateway-work.ts'
import { chatRow } from './dashboard-views.ts'

/** A page of history: what a browser shows comfortably; older messages stay in `mesh chat history`. */
export const DEFAULT_PAGE_MESSAGES = 200
export const MAX_PAGE_MESSAGES = 1000

export type DashboardChat = Pick<ChatService, 'history' | 'join' | 'send' | 'dm' | 'peers' | 'rooms'>

/** Errors of the chat that are the request's fault: a 400 with the chat's own message. */
const BAD_INPUT = new Set(['InvalidRoomError', 'InvalidChatMessageError', 'UnknownPeerError', 'AmbiguousPeerError', 'DirectMessageRefusedError'])

/**
 * GET /api/chat/history?room=R | ?dm=PEER [&limit=N]: the newest messages, oldest first.
 * Unlike `mesh chat history`, reading does not join the room: a GET changes nothing (the
 * page joins with POST /api/chat/join).
 */
export async function chatHistory (chat: DashboardChat, url: URL): Promise<unknown> {
  const limitText = url.searchParams.get('limit')
  const limit = limitText == null ? DEFAULT_PAGE_MESSAGES : Number(limitText)
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_MESSAGES) throw new BadRequestError(`limit must be from 1 to ${MAX_PAGE_MESSAGES}`)
  return chatErrors(() => {
    const { conversation, name } = conversationOf(chat, url.searchParams.get('room'), url.searchParams.get('dm'))
    const label = chat.peers.labeller()
    return { conversation, name, messages: chat.history(conversation, limit).map(m => chatRow(m, label(m.from, m.nick))) }
  })
}

/** POST /api/chat/send {"room","text"} or {"dm","text"}: says it, or sends the direct message. */
export async function chatSend (chat: DashboardChat, body: Record<string, unknown>): Promise<unknown> {
  const { text, room, dm } = body
  if (typeof text !== 'string' || text === '') throw new BadRequestError('text must be a non-empty string')
  if (Buffer.byteLength(text) > MAX_TEXT_BYTES) throw new BadRequestError(`text must be at most ${MAX_TEXT_BYTES} bytes`)
  if (room != null && typeof room !== 'string') throw new BadRequestError('room must be a string')
  if (dm != null && typeof dm !== 'string') throw new BadRequestError('dm must be a string naming a peer')
  if (room != null && dm != null) throw new BadRequestError('give room or dm, not both')
  return await chatErrors(async () => {
    if (dm != null) {
      const { message, delivered } = await chat.dm(dm, text)
      return { ...chatRow(message, chat.peers.label(message.from, message.nick)), delivered }
    }
    const m = await chat.send(room ?? DEFAULT_ROOM, text)
    return chatRow(m, chat.peers.label(m.from, m.nick))
  })
}

/** POST /api/chat/join {"room"}: this node enters the room (and pulls its past from the members). */
export async function chatJoin (chat: DashboardChat, body: Record<string, unknown>): Promise<unknown> {
  if (typeof body.room !== 'string') throw new BadRequestError('room must be a string')
  const room = body.room
  return await chatErrors(() => {
    chat.join(room)
    return { rooms: chat.rooms() }
  })
}

function conversationOf (chat: DashboardChat, room: string | null, dm: string | null): { conversation: string, name: string } {
  if (room != null && dm != null) throw new BadRequestError('give room or dm, not both')
  if (dm != null) {
    const peer = chat.peers.resolve(dm)
    return { conversation: dmConversation(peer.id), name: `@${peer.nick}` }
  }
  const name = room ?? DEFAULT_ROOM
  return { conversation: name, name }
}

async function chatErrors<T> (fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err: any) {
    if (BAD_INPUT.has(err?.name)) throw new BadRequestError(String(err.message))
    if (err?.name === 'ChatBusyError') throw new GatewayError('busy', String(err.message))
    throw err
  }
}
