import { EventEmitter } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ChatStore } from '../../../node/chat/chat-store.ts'
import type { ChatStreams, MemberChanges } from '../../../node/chat/dependencies.ts'
import { DirectMessages } from '../../../node/chat/direct-messages.ts'
import { MeshMetrics } from '../../../node/metrics/metrics.ts'
import { MeshDatabase } from '../../../node/store/database.ts'
import { FakeClock } from '../../../node/time/fake-clock.ts'
import { CHAT_DM_PROTOCOL, signChatMessage, type ChatMessage } from '../../../protocols/chat/index.ts'
import { FakeStreams, settle } from './fakes.ts'

describe('direct messages: the outbox', () => {
  let home: string
  let db: MeshDatabase
  let store: ChatStore
  let clock: FakeClock
  let streams: FakeStreams
  let changes: EventEmitter
  let metrics: MeshMetrics
  let dms: DirectMessages
  let message: ChatMessage

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'mesh-chat-dm-'))
    db = new MeshDatabase(home)
    store = new ChatStore(db)
    clock = new FakeClock()
    streams = new FakeStreams()
    changes = new EventEmitter()
    metrics = new MeshMetrics()
    dms = new DirectMessages({
      libp2p: streams as unknown as ChatStreams,
      store,
      metrics,
      members: { member: () => undefined },
      memberChanges: changes as unknown as MemberChanges,
      clock
    }, { receive: async () => {}, random: () => 0.5 })
    const key = await generateKeyPair('Ed25519')
    const to = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    message = await signChatMessage({ v: 1, room: '', to, from: peerIdFromPrivateKey(key).toString(), nick: 'alice', ts: clock.now(), lc: 0, seq: 0, text: 'hi bob' }, key)
  })

  afterEach(async () => {
    await dms.stop()
    db.close()
    await rm(home, { recursive: true, force: true })
  })

  async function outcomes (): Promise<Record<string, number>> {
    return (await metrics.snapshot()).mesh_chat_dm_total ?? {}
  }

  it('a DM the recipient refuses is not delivered: kept as refused, never sent again', async () => {
    await dms.start()
    streams.answers = [{ ok: false, reason: 'invalid' }]
    expect(await dms.send(message)).toBe('refused')
    expect(store.outboxState(message.id)).toBe('refused')
    expect(await outcomes()).toEqual({ 'outcome=refused': 1 })
    expect((await metrics.snapshot()).mesh_chat_outbox).toEqual({ total: 0 })
    // The recipient comes back and the retry timer runs for a while: nothing is sent again.
    changes.emit('member:join', { member: { id: message.to }, from: 'dead', to: 'alive', cause: 'heartbeat' })
    await clock.advance(10 * 60_000)
    await settle()
    expect(streams.dials).toBe(1)
  })

  it('a DM the recipient cannot take yet is retried after 1 s, 2 s, … until it is acknowledged', async () => {
    await dms.start()
    streams.answers = ['unreachable', 'unreachable', { ok: true }]
    expect(await dms.send(message)).toBe('waiting')
    expect(streams.dials).toBe(1)
    // Equal jitter at 0.5: the first retry after exactly 1 s, the second 2 s later.
    await clock.advance(999)
    expect(streams.dials).toBe(1)
    await clock.advance(1)
    await settle()
    expect(streams.dials).toBe(2)
    await clock.advance(2000)
    await settle()
    expect(streams.dials).toBe(3)
    expect(store.outboxState(message.id)).toBe('delivered')
    expect(await outcomes()).toEqual({ 'outcome=retry': 2, 'outcome=delivered': 1 })
  })

  it('a recipient that comes back while a retry is failing is tried again at once, not after the backoff', async () => {
    await dms.start()
    streams.answers = ['unreachable', 'unreachable', { ok: true }]
    expect(await dms.send(message)).toBe('waiting')
    // The retry after 1 s dials the old address and hangs there…
    let release = (): void => {}
    streams.hold = new Promise(resolve => { release = resolve })
    await clock.advance(1000)
    expect(streams.dials).toBe(2)
    // …when the recipient comes back alive; then that dial fails.
    changes.emit('member:join', { member: { id: message.to }, from: 'dead', to: 'alive', cause: 'heartbeat' })
    streams.hold = null
    release()
    await settle()
    expect(streams.dials).toBe(3)
    expect(store.outboxState(message.id)).toBe('delivered')
  })

  it('start twice registers once; stop undoes start; start after stop delivers again', async () => {
    await dms.start()
    await dms.start()
    expect(streams.handleCalls).toBe(1)
    expect(changes.listenerCount('member:join') + changes.listenerCount('member:update')).toBe(2)

    await dms.stop()
    expect(streams.handlers.has(CHAT_DM_PROTOCOL)).toBe(false)
    expect(changes.listenerCount('member:join') + changes.listenerCount('member:update')).toBe(0)
    expect(clock.pendingTimers).toBe(0)
    // Stopped: the DM is kept for later, not sent.
    expect(await dms.send(message)).toBe('waiting')
    expect(streams.dials).toBe(0)

    await dms.start()
    expect(streams.handlers.has(CHAT_DM_PROTOCOL)).toBe(true)
    streams.answers = [{ ok: true }]
    await clock.advance(1000)
    await settle()
    expect(store.outboxState(message.id)).toBe('delivered')
  })
})
