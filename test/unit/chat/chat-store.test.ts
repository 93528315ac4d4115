import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ChatStore } from '../../../node/chat/chat-store.ts'
import { MeshDatabase } from '../../../node/store/database.ts'
import type { ChatMessage } from '../../../protocols/chat/index.ts'

const A = '12D3KooWAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
const B = '12D3KooWBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB'

/** Fields the store does not check (signatures are checked before it). */
function message (from: string, seq: number, ts = seq, room = 'lobby'): ChatMessage {
  return { v: 1, room, to: null, from, nick: from === A ? 'alice' : 'bob', ts, lc: 0, seq, text: `${from.slice(8, 9)}${seq}`, sig: 'x', id: `${from.slice(8, 9)}-${room}-${seq}` }
}

describe('ChatStore', () => {
  let home: string
  let db: MeshDatabase
  let store: ChatStore
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'mesh-chat-store-'))
    db = new MeshDatabase(home)
    store = new ChatStore(db)
  })
  afterEach(async () => {
    db.close()
    await rm(home, { recursive: true, force: true })
  })

  it('stores a message once', () => {
    expect(store.insert(message(A, 1), 'lobby', 0)).toBe(true)
    expect(store.insert(message(A, 1), 'lobby', 0)).toBe(false)
    expect(store.count('lobby')).toBe(1)
  })

  it('stores a batch in one call: new ones and copies told apart, the digest moved as by single inserts', () => {
    store.insert(message(A, 2), 'lobby', 0)
    const fresh = store.insertMany([message(A, 1), message(A, 2), message(B, 1), message(A, 1)].map(m => ({ message: m, conversation: 'lobby', receivedAt: 5 })))
    expect(fresh).toEqual([true, false, true, false])
    expect(store.count('lobby')).toBe(3)
    expect(store.digest('lobby')).toEqual({ [A]: 2, [B]: 1 })
    expect(store.knownPeers().map(p => p.nick).sort()).toEqual(['alice', 'bob'])
  })

  it('keeps the digest at the highest seq held without a gap, whatever the arrival order', () => {
    for (const seq of [3, 1, 5]) store.insert(message(A, seq), 'lobby', 0)
    expect(store.digest('lobby')).toEqual({ [A]: 1 })
    store.insert(message(A, 2), 'lobby', 0)
    expect(store.digest('lobby')).toEqual({ [A]: 3 })
    store.insert(message(A, 4), 'lobby', 0)
    store.insert(message(B, 1), 'lobby', 0)
    expect(store.digest('lobby')).toEqual({ [A]: 5, [B]: 1 })
    expect(store.digest('other')).toEqual({})
  })

  it('answers a digest with what it lacks, in bounded batches', () => {
    for (let seq = 1; seq <= 10; seq++) store.insert(message(A, seq), 'lobby', 0)
    for (let seq = 1; seq <= 4; seq++) store.insert(message(B, seq), 'lobby', 0)
    store.insert(message(A, 1, 1, 'dev'), 'dev', 0)
    const all = store.missing('lobby', { [A]: 7 })
    expect(all.more).toBe(false)
    expect(all.messages.map(m => m.text).sort()).toEqual(['A10', 'A8', 'A9', 'B1', 'B2', 'B3', 'B4'])
    const cut = store.missing('lobby', {}, 5)
    expect(cut.more).toBe(true)
    expect(cut.messages).toHaveLength(5)
    expect(store.missing('lobby', { [A]: 10, [B]: 4 })).toEqual({ messages: [], more: false })
    const bytesCut = store.missing('lobby', {}, 100, 1000)
    expect(bytesCut.more).toBe(true)
    expect(bytesCut.messages.length).toBeLessThan(14)
  })

  it('returns the last messages in display order (ts, lc, id)', () => {
    store.insert(message(B, 1, 5), 'lobby', 0)
    store.insert(message(A, 1, 5), 'lobby', 0)
    store.insert(message(A, 2, 9), 'lobby', 0)
    store.insert(message(B, 2, 1), 'lobby', 0)
    expect(store.history('lobby', 10).map(m => m.text)).toEqual(['B2', 'A1', 'B1', 'A2'])
    expect(store.history('lobby', 2).map(m => m.text)).toEqual(['B1', 'A2'])
  })

  it('counts our next seq per room and keeps rooms and the outbox', () => {
    store.insert(message(A, 1), 'lobby', 0)
    store.insert(message(A, 2), 'lobby', 0)
    expect(store.nextSeq('lobby', A)).toBe(3)
    expect(store.nextSeq('dev', A)).toBe(1)
    store.joinRoom('dev', 1)
    store.joinRoom('lobby', 2)
    expect(store.rooms()).toEqual(['dev', 'lobby'])
    store.queueDm('d1', B, '{}', 100)
    expect(store.recipientsDue(100)).toEqual([B])
    store.retryLater('d1', 500)
    expect(store.recipientsDue(100)).toEqual([])
    expect(store.queuedFor(B, 10).map(e => e.attempts)).toEqual([1])
    expect(store.outboxState('d1')).toBe('waiting')
    expect(store.waitingCount()).toBe(1)
    store.markDelivered('d1')
    expect(store.outboxState('d1')).toBe('delivered')
    expect(store.waitingCount()).toBe(0)
  })

  it('keeps a refused DM as refused, and never hands it out again', () => {
    store.queueDm('d1', B, '{}', 100)
    store.queueDm('d2', B, '{}', 101)
    store.markRefused('d1', 'invalid')
    expect(store.outboxState('d1')).toBe('refused')
    expect(store.queuedFor(B, 10).map(e => e.id)).toEqual(['d2'])
    expect(store.waitingCount()).toBe(1)
    store.markDelivered('d2')
    expect(store.recipientsDue(1000)).toEqual([])
  })
})
