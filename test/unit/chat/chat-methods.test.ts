import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import type { ChatEvents } from '../../../node/chat/chat-events.ts'
import { registerChatMethods } from '../../../node/chat/chat-methods.ts'
import type { ChatService } from '../../../node/chat/chat-service.ts'
import type { StoredMessage } from '../../../node/chat/chat-store.ts'
import type { ControlHandler, ControlServer } from '../../../node/control/control-server.ts'

function stored (text: string, conversation = 'lobby'): StoredMessage {
  return { v: 1, id: text, room: conversation, to: null, from: 'p1', nick: 'bob', ts: 1, lc: 0, seq: 1, text, sig: '', conversation, receivedAt: 0 }
}

/** The chat's control methods over a chat that only emits what the test says. */
function methods (): { chat: EventEmitter<ChatEvents>, call: (method: string, params: Record<string, unknown>, signal: AbortSignal) => ReturnType<ControlHandler> } {
  const handlers = new Map<string, ControlHandler>()
  const control = { register: (name: string, handler: ControlHandler) => { handlers.set(name, handler) } } as unknown as ControlServer
  // Senders are labelled by the peer directory: here every nick is one peer's.
  const chat = Object.assign(new EventEmitter<ChatEvents>(), { join: () => {}, peers: { label: (_id: string, nick: string) => nick } })
  registerChatMethods(control, chat as unknown as ChatService)
  return { chat, call: (method, params, signal) => (handlers.get(method) as ControlHandler)(params, signal) }
}

describe('chat.tail', () => {
  it('streams the room\'s messages and every notice, in order, until the client goes away', async () => {
    const { chat, call } = methods()
    const client = new AbortController()
    const events = call('chat.tail', { room: 'lobby' }, client.signal) as AsyncIterable<any>
    chat.emit('message', stored('one'))
    chat.emit('message', stored('elsewhere', 'dev'))
    chat.emit('notice', { kind: 'left', peer: 'p2', nick: 'carol', at: 5 })
    chat.emit('message', stored('two'))
    const seen: string[] = []
    for await (const event of events) {
      seen.push(event.text)
      if (seen.length === 3) client.abort()
    }
    expect(seen).toEqual(['one', 'carol left', 'two'])
    // The client is gone: nothing is left listening.
    expect(chat.listenerCount('message') + chat.listenerCount('notice')).toBe(0)
  })

  it('a reader that falls far behind costs bounded memory', async () => {
    const { chat, call } = methods()
    const client = new AbortController()
    const events = call('chat.tail', { room: 'lobby' }, client.signal) as AsyncIterable<any>
    for (let i = 0; i < 20_000; i++) chat.emit('message', stored(`m${i}`))
    client.abort()
    let count = 0
    let last = ''
    for await (const event of events) { count++; last = event.text }
    expect(count).toBe(10_000)
    expect(last).toBe('m9999')
  })
})
