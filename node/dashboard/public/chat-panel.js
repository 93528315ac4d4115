import { clockTime, el, setText } from './dom.js'
import { getJson, postJson } from './feed.js'

/** Messages kept on the page per open conversation; older ones stay in `mesh chat history`. */
const MAX_SHOWN = 1000
const DEFAULT_ROOM = 'lobby'

/**
 * The chat: rooms and direct-message partners on the left, the open conversation's messages,
 * and a line to send. A conversation is named as the node names it: the room, or `@<peer id>`.
 */
export class ChatPanel {
  constructor (root) {
    this.roomList = root.querySelector('#chat-rooms')
    this.dmList = root.querySelector('#chat-dms')
    this.messages = root.querySelector('#chat-messages')
    this.title = root.querySelector('#chat-title')
    this.error = root.querySelector('#chat-error')
    this.input = root.querySelector('#chat-text')
    this.rooms = new Set([DEFAULT_ROOM])
    this.peers = new Map()
    this.unread = new Map()
    this.seen = new Set()
    this.current = DEFAULT_ROOM
    this.selfId = null
    this.listKey = ''
    this.buttons = new Map()
    this.joined = new Set()
    root.querySelector('#chat-form').addEventListener('submit', e => { e.preventDefault(); this.send() })
    root.querySelector('#chat-join').addEventListener('submit', e => {
      e.preventDefault()
      const input = root.querySelector('#chat-join-room')
      const room = input.value.trim()
      if (room !== '') { input.value = ''; this.open(room) }
    })
  }

  /** The rooms the node is in, and the peers one can write to. */
  setDirectory (rooms, members, selfId) {
    this.selfId = selfId
    this.joined = new Set(rooms)
    for (const r of rooms) this.rooms.add(r)
    for (const m of members) if (m.id !== selfId) this.peers.set(m.id, m)
    this.renderLists()
  }

  /** Reloads the open conversation (after a reconnection, messages may have come meanwhile). */
  reload () {
    this.open(this.current)
  }

  async open (conversation) {
    this.current = conversation
    this.unread.delete(conversation)
    if (!conversation.startsWith('@')) this.rooms.add(conversation)
    this.renderLists()
    setText(this.title, this.nameOf(conversation))
    setText(this.error, '')
    const query = conversation.startsWith('@') ? `dm=${encodeURIComponent(conversation.slice(1))}` : `room=${encodeURIComponent(conversation)}`
    try {
      // A room the node is not in yet: it joins (a POST), then collects the room and pulls its past.
      if (!conversation.startsWith('@') && !this.joined.has(conversation)) {
        const { rooms } = await postJson('/api/chat/join', { room: conversation })
        this.joined = new Set(rooms)
      }
      const page = await getJson(`/api/chat/history?${query}`)
      if (this.current !== conversation) return
      this.seen = new Set()
      this.messages.replaceChildren()
      for (const m of page.messages) this.append(m)
    } catch (err) {
      setText(this.error, err.message)
    }
  }

  /** A message new to the node, from the feed. */
  receive (m) {
    if (m.conversation === this.current) {
      this.append(m)
      return
    }
    if (!m.conversation.startsWith('@')) this.rooms.add(m.conversation)
    this.unread.set(m.conversation, (this.unread.get(m.conversation) ?? 0) + 1)
    this.renderLists()
  }

  append (m) {
    if (this.seen.has(m.id)) return
    this.seen.add(m.id)
    const atBottom = this.messages.scrollHeight - this.messages.scrollTop - this.messages.clientHeight < 40
    const li = el('li', { attrs: { 'data-id': m.id } }, [
      el('span', { cls: 'time', text: clockTime(m.ts) }),
      el('span', { cls: 'nick', text: m.label, title: m.from }),
      el('span', { cls: 'text', text: m.text })
    ])
    // Messages arrive in the node's order (hybrid logical clock) except a late one from sync: put it in its place.
    let after = this.messages.lastElementChild
    while (after != null && Number(after.dataset.ts) > m.ts) after = after.previousElementSibling
    li.dataset.ts = String(m.ts)
    if (after == null) this.messages.prepend(li)
    else after.after(li)
    while (this.messages.childElementCount > MAX_SHOWN) {
      this.seen.delete(this.messages.firstElementChild.dataset.id)
      this.messages.firstElementChild.remove()
    }
    if (atBottom) this.messages.scrollTop = this.messages.scrollHeight
  }

  async send () {
    const text = this.input.value
    if (text.trim() === '') return
    const target = this.current.startsWith('@') ? { dm: this.current.slice(1) } : { room: this.current }
    setText(this.error, '')
    try {
      const m = await postJson('/api/chat/send', { ...target, text })
      this.input.value = ''
      if (m.conversation === this.current) this.append(m)
      if (m.delivered === false) setText(this.error, 'not delivered yet: it waits in the outbox until the peer is back')
    } catch (err) {
      setText(this.error, err.message)
    }
  }

  nameOf (conversation) {
    if (!conversation.startsWith('@')) return `#${conversation}`
    const peer = this.peers.get(conversation.slice(1))
    return `@${peer?.nick ?? conversation.slice(-6)}`
  }

  /**
   * The two lists are rebuilt only when a room or a peer comes or goes (or a nick changes);
   * who is away, the unread counts and the open conversation are updated on the buttons in place.
   */
  renderLists () {
    const rooms = [...this.rooms].sort()
    const dms = [...this.peers.values()].sort((a, b) => a.nick.localeCompare(b.nick))
    const key = JSON.stringify([rooms, dms.map(p => [p.id, p.nick])])
    if (key !== this.listKey) {
      this.listKey = key
      this.buttons = new Map()
      this.roomList.replaceChildren(...rooms.map(r => this.item(r, `#${r}`)))
      this.dmList.replaceChildren(...dms.map(p => this.item(`@${p.id}`, `@${p.nick}`)))
    }
    for (const p of dms) {
      const button = this.buttons.get(`@${p.id}`)
      const away = p.state !== 'alive'
      if (button != null && button.classList.contains('muted') !== away) {
        button.classList.toggle('muted', away)
        button.title = away ? 'away: messages wait in the outbox' : ''
      }
    }
    for (const [conversation, button] of this.buttons) {
      const current = conversation === this.current
      if ((button.getAttribute('aria-current') === 'true') !== current) button.setAttribute('aria-current', String(current))
      const unread = this.unread.get(conversation)
      setText(button.querySelector('.unread'), unread != null ? `(${unread})` : '')
    }
  }

  item (conversation, text) {
    const button = el('button', { text, attrs: { type: 'button', 'data-conversation': conversation } }, [el('span', { cls: 'unread' })])
    button.addEventListener('click', () => { this.open(conversation) })
    this.buttons.set(conversation, button)
    return el('li', {}, [button])
  }
}
