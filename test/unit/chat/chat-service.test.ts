import { EventEmitter } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ChatService } from '../../../node/chat/chat-service.ts'
import type { ChatLibp2p, MemberChanges } from '../../../node/chat/dependencies.ts'
import type { Member } from '../../../node/membership/member.ts'
import { MeshMetrics } from '../../../node/metrics/metrics.ts'
import { AmbiguousPeerError, UnknownPeerError } from '../../../node/peers/peer-names.ts'
import { MeshDatabase } from '../../../node/store/database.ts'
import { FakeClock } from '../../../node/time/fake-clock.ts'
import { CHAT_DM_PROTOCOL, CHAT_PUSH_PROTOCOL, CHAT_SYNC_PROTOCOL, chatTopic, signChatMessage } from '../../../protocols/chat/index.ts'
import { FakeStreams, member, settle } from './fakes.ts'

/** Gossipsub as chat uses it: subscriptions, validators and listeners, counted. */
class FakePubSub {
  readonly topicValidators = new Map<string, unknown>()
  readonly subscribed = new Set<string>()
  readonly listeners = new Map<string, number>()
  subscribe = (topic: string): void => { this.subscribed.add(topic) }
  unsubscribe = (topic: string): void => { this.subscribed.delete(topic) }
  getSubscribers = (): [] => []
  publish = async (): Promise<{ recipients: [] }> => ({ recipients: [] })
  addEventListener = (type: string): void => { this.listeners.set(type, (this.listeners.get(type) ?? 0) + 1) }
  removeEventListener = (type: string): void => { this.listeners.set(type, (this.listeners.get(type) ?? 0) - 1) }
}

async function newPeer (): Promise<{ key: PrivateKey, id: string }> {
  const key = await generateKeyPair('Ed25519')
  return { key, id: peerIdFromPrivateKey(key).toString() }
}

describe('ChatService', () => {
  let home: string
  let db: MeshDatabase
  let streams: FakeStreams
  let pubsub: FakePubSub
  let changes: EventEmitter
  let members: Member[]
  let chat: ChatService
  let self: Member

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'mesh-chat-service-'))
    db = new MeshDatabase(home)
    streams = new FakeStreams()
    pubsub = new FakePubSub()
    changes = new EventEmitter()
    members = []
    const { key, id } = await newPeer()
    self = member(id, 'alice')
    const libp2p = { ...streams, peerId: peerIdFromPrivateKey(key), services: { pubsub } } as unknown as ChatLibp2p
    chat = new ChatService({
      libp2p,
      metrics: new MeshMetrics(),
      db,
      members: { selfMember: () => self, members: () => members, member: id => members.find(m => m.id === id) },
      memberChanges: changes as unknown as MemberChanges,
      privateKey: key,
      clock: new FakeClock()
    }, { nick: 'alice', random: () => 0.5 })
  })

  afterEach(async () => {
    await chat.stop()
    db.close()
    await rm(home, { recursive: true, force: true })
  })

  it('start twice is start once; stop undoes it; start after stop enters the same rooms', async () => {
    await chat.start()
    await chat.start()
    chat.join('dev')
    expect(streams.handleCalls).toBe(3) // sync, DMs, push
    expect([...pubsub.subscribed].sort()).toEqual([chatTopic('dev'), chatTopic('lobby')])
    expect(pubsub.listeners.get('message')).toBe(1)
    expect(changes.listenerCount('member:join')).toBe(2) // the notices, and the DM outbox

    await chat.stop()
    expect(pubsub.subscribed.size).toBe(0)
    expect(pubsub.topicValidators.size).toBe(0)
    expect(pubsub.listeners.get('message')).toBe(0)
    expect(changes.eventNames()).toEqual([])
    expect(streams.handlers.size).toBe(0)

    await chat.start()
    expect([...pubsub.subscribed].sort()).toEqual([chatTopic('dev'), chatTopic('lobby')])
    expect([...streams.handlers.keys()].sort()).toEqual([CHAT_DM_PROTOCOL, CHAT_PUSH_PROTOCOL, CHAT_SYNC_PROTOCOL].sort())
    expect((await chat.send('dev', 'still here')).text).toBe('still here')
  })

  it('names a peer by full id, id suffix, nick or nick#suffix, members and peers met before alike', async () => {
    const bob = await newPeer()
    const bob2 = await newPeer()
    const carol = await newPeer()
    members = [member(bob.id, 'bob'), member(bob2.id, 'bob', 'dead')]
    // carol is not in the member table: she is known from a message she sent before.
    chat.store.insert(await signChatMessage({ v: 1, room: 'lobby', to: null, from: carol.id, nick: 'carol', ts: 1, lc: 0, seq: 1, text: 'hi' }, carol.key), 'lobby', 0)

    expect(chat.peers.resolve(bob.id).id).toBe(bob.id)
    expect(chat.peers.resolve(bob.id.slice(-8)).id).toBe(bob.id)
    expect(chat.peers.resolve(`…${bob2.id.slice(-6)}`).id).toBe(bob2.id)
    expect(chat.peers.resolve(`bob#${bob2.id.slice(-6)}`).id).toBe(bob2.id)
    // Two bobs, one alive: the live one.
    expect(chat.peers.resolve('bob').id).toBe(bob.id)
    expect(chat.peers.resolve('carol')).toEqual({ id: carol.id, nick: 'carol' })
    expect(chat.peers.label(bob.id, 'bob')).toBe(`bob#${bob.id.slice(-6)}`)
    expect(chat.peers.label(carol.id, 'carol')).toBe('carol')

    members[1] = member(bob2.id, 'bob')
    expect(() => chat.peers.resolve('bob')).toThrow(AmbiguousPeerError)
    expect(() => chat.peers.resolve('dave')).toThrow(UnknownPeerError)
  })

  it('a DM the recipient refuses fails with DirectMessageRefusedError, not "delivered"', async () => {
    const bob = await newPeer()
    members = [member(bob.id, 'bob')]
    await chat.start()
    streams.answers = [{ ok: true }, { ok: false, reason: 'invalid' }]
    expect((await chat.dm('bob', 'first')).delivered).toBe(true)
    await expect(chat.dm('bob', 'second')).rejects.toMatchObject({ name: 'DirectMessageRefusedError' })
    // What we wrote stays in our history; it is never sent again.
    expect(chat.history(`@${bob.id}`, 10).map(m => m.text)).toEqual(['first', 'second'])
    await settle()
    expect(streams.dials).toBe(2)
  })
})
