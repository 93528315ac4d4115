import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey, Stream } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { streamPair } from '@libp2p/utils'
import { AntiEntropy, GAP_GIVE_UP_PULLS, pullRoom, type AntiEntropyComponents } from '../../../node/chat/anti-entropy.ts'
import { ChatStore } from '../../../node/chat/chat-store.ts'
import { MeshMetrics } from '../../../node/metrics/metrics.ts'
import { MeshDatabase } from '../../../node/store/database.ts'
import { FakeClock } from '../../../node/time/fake-clock.ts'
import {
  CHAT_SYNC_PROTOCOL, decodeSyncRequest, encodeSyncRequest, MAX_DIGEST_SENDERS, signChatMessage,
  type ChatMessage, type SyncRequest
} from '../../../protocols/chat/index.ts'

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

/** A distinct, well-formed (base58) sender id per number, sorting in number order. */
function sender (n: number): string {
  let digits = ''
  for (let i = 0; i < 4; i++, n = Math.floor(n / 58)) digits = BASE58[n % 58] + digits
  return `12D3KooW${digits}`
}

function message (from: string, seq: number): ChatMessage {
  return { v: 1, room: 'lobby', to: null, from, nick: 'n', ts: seq, lc: 0, seq, text: `${from}:${seq}`, sig: 'x', id: `${from}-${seq}` }
}

describe('pullRoom', () => {
  let home: string
  let dbs: MeshDatabase[] = []
  let peer: ChatStore
  let self: ChatStore
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'mesh-chat-sync-'))
    dbs = [new MeshDatabase(home, 'peer.db'), new MeshDatabase(home, 'self.db')]
    peer = new ChatStore(dbs[0])
    self = new ChatStore(dbs[1])
  })
  afterEach(async () => {
    for (const db of dbs) db.close()
    await rm(home, { recursive: true, force: true })
  })

  /** Talks to `peer`; the request goes through the real frame codec, whose limit is the point. */
  function hooks (requests: SyncRequest[]): Parameters<typeof pullRoom>[2] {
    return {
      exchange: async request => {
        const received = decodeSyncRequest(encodeSyncRequest(request))
        requests.push(received)
        const answer = peer.missing(received.room, received.have, undefined, undefined, { after: received.after, until: received.until })
        return { v: 1, ...answer, rejected: [] }
      },
      accept: async m => self.insert(m, m.room, 0)
    }
  }

  it('catches up in a room with more senders than one digest may name', async () => {
    const senders = Array.from({ length: MAX_DIGEST_SENDERS + 10 }, (_, i) => sender(i))
    expect(new Set(senders).size).toBe(senders.length)
    // Both hold one message of every sender; we lack the second message of a few senders
    // on either side of the page boundary, and the peer has a sender we never heard of.
    for (const s of senders) { peer.insert(message(s, 1), 'lobby', 0); self.insert(message(s, 1), 'lobby', 0) }
    const lagging = [senders[0], senders[MAX_DIGEST_SENDERS - 1], senders[MAX_DIGEST_SENDERS], senders.at(-1) as string]
    for (const s of lagging) peer.insert(message(s, 2), 'lobby', 0)
    const newcomer = sender(MAX_DIGEST_SENDERS + 100)
    peer.insert(message(newcomer, 1), 'lobby', 0)

    // A full digest cannot be sent: this is what stopped sync for such rooms.
    expect(() => decodeSyncRequest(encodeSyncRequest({ v: 1, room: 'lobby', have: self.digest('lobby') }))).toThrow()

    const requests: SyncRequest[] = []
    expect(await pullRoom(self, 'lobby', hooks(requests))).toBe(lagging.length + 1)
    expect(self.digest('lobby')).toEqual(peer.digest('lobby'))
    expect(requests.map(r => Object.keys(r.have).length)).toEqual([MAX_DIGEST_SENDERS, 10])
    expect(requests[0].after).toBeUndefined()
    expect(requests[1].after).toBe(requests[0].until)
    expect(requests[1].until).toBeUndefined()

    // In sync: one round per page, nothing new.
    const again: SyncRequest[] = []
    expect(await pullRoom(self, 'lobby', hooks(again))).toBe(0)
    expect(again).toHaveLength(2)
  })

  it('pulls batch after batch within a page until the peer has no more', async () => {
    for (let seq = 1; seq <= 600; seq++) peer.insert(message(sender(1), seq), 'lobby', 0)
    const requests: SyncRequest[] = []
    expect(await pullRoom(self, 'lobby', hooks(requests))).toBe(600)
    expect(requests).toHaveLength(3)
    expect(self.count('lobby')).toBe(600)
  })
})

describe('AntiEntropy as a service', () => {
  let home: string
  let db: MeshDatabase
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'mesh-chat-sync-'))
    db = new MeshDatabase(home)
  })
  afterEach(async () => {
    db.close()
    await rm(home, { recursive: true, force: true })
  })

  it('start twice registers once; stop undoes start; start after stop pulls again', async () => {
    const member = peerIdFromString('12D3KooWHFrmLWTTDD4NodngtRMEVYgcS6VnrmkQVRs3mR4Lgdgy')
    const handled = new Set<string>()
    let handleCalls = 0
    let dials = 0
    const libp2p: AntiEntropyComponents['libp2p'] = {
      handle: async protocol => { handleCalls++; handled.add(String(protocol)) },
      unhandle: async protocol => { handled.delete(String(protocol)) },
      // The member is unreachable: each periodic pull is one failed dial.
      dialProtocol: async () => { dials++; throw new Error('connection refused') },
      services: { pubsub: { getSubscribers: () => [member] } }
    }
    const clock = new FakeClock()
    const sync = new AntiEntropy({ libp2p, store: new ChatStore(db), metrics: new MeshMetrics(), clock }, {
      accept: async () => false,
      rooms: () => ['lobby'],
      intervalMs: 1000,
      random: () => 0.5
    })

    await sync.start()
    await sync.start()
    expect(handleCalls).toBe(1)
    expect(clock.pendingTimers).toBe(1)
    await clock.advance(500)
    expect(dials).toBe(1)

    await sync.stop()
    expect(handled.has(CHAT_SYNC_PROTOCOL)).toBe(false)
    expect(clock.pendingTimers).toBe(0)
    sync.sync(member, 'lobby')
    await clock.advance(5000)
    expect(dials).toBe(1)

    await sync.start()
    expect(handled.has(CHAT_SYNC_PROTOCOL)).toBe(true)
    await clock.advance(500)
    expect(dials).toBe(2)
    sync.sync(member, 'lobby')
    await clock.advance(0)
    expect(dials).toBe(3)
    await sync.stop()
  })
})

describe('AntiEntropy pulling from a peer: budgets and holes', () => {
  let home: string
  let dbs: MeshDatabase[] = []
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'mesh-chat-budget-'))
    dbs = [new MeshDatabase(home, 'a.db'), new MeshDatabase(home, 'b.db')]
  })
  afterEach(async () => {
    for (const db of dbs) db.close()
    await rm(home, { recursive: true, force: true })
  })

  const A = peerIdFromString('12D3KooWHFrmLWTTDD4NodngtRMEVYgcS6VnrmkQVRs3mR4Lgdgy')
  const B = peerIdFromString('12D3KooWJQkj6W1TXFMBzdKvmi45va1Z2SWLVzUMnThDjYtgAo19')

  /** A real, signed message: the sync codec checks every field of what it carries. */
  async function signed (key: PrivateKey, seq: number): Promise<ChatMessage> {
    return await signChatMessage({ v: 1, room: 'lobby', to: null, from: peerIdFromPrivateKey(key).toString(), nick: 'n', ts: 1_700_000_000_000 + seq, lc: 0, seq, text: `m${seq}` }, key)
  }

  /** Two nodes' anti-entropy over in-memory streams: `a` pulls from `b`, which serves its store. */
  async function linked (clock: FakeClock): Promise<{ a: AntiEntropy, storeA: ChatStore, storeB: ChatStore, metrics: MeshMetrics, requests: SyncRequest[] }> {
    const storeA = new ChatStore(dbs[0])
    const storeB = new ChatStore(dbs[1])
    const metrics = new MeshMetrics()
    const requests: SyncRequest[] = []
    let serveB: ((stream: Stream, connection: any) => void) | undefined
    const libp2pB: AntiEntropyComponents['libp2p'] = {
      handle: async (_protocol, handler: any) => { serveB = handler },
      unhandle: async () => {},
      dialProtocol: async () => { throw new Error('b does not pull in this test') },
      services: { pubsub: { getSubscribers: () => [] } }
    }
    const libp2pA: AntiEntropyComponents['libp2p'] = {
      handle: async () => {},
      unhandle: async () => {},
      dialProtocol: async () => {
        const [outbound, inbound] = await streamPair()
        // Record what a asks for, as b reads it.
        inbound.addEventListener('message', evt => {
          try { requests.push(decodeSyncRequest((evt as any).data.subarray(1))) } catch {}
        })
        serveB?.(inbound, { remotePeer: A })
        return outbound
      },
      services: { pubsub: { getSubscribers: () => [B] } }
    }
    const b = new AntiEntropy({ libp2p: libp2pB, store: storeB, metrics: new MeshMetrics(), clock }, { accept: async () => false, rooms: () => [] })
    await b.start()
    const a = new AntiEntropy({ libp2p: libp2pA, store: storeA, metrics, clock }, {
      accept: async m => storeA.insert(m, m.room, 0),
      rooms: () => [],
      intervalMs: 60_000
    })
    await a.start()
    return { a, storeA, storeB, metrics, requests }
  }

  async function pullOnce (a: AntiEntropy, clock: FakeClock): Promise<void> {
    a.sync(B, 'lobby')
    await expect.poll(async () => { await clock.advance(0); return (a as any).queues.size }).toBe(0)
  }

  it('a hole nobody can fill is given up after a few pulls, and what lies above it is offered no more', async () => {
    const clock = new FakeClock()
    const { a, storeA, storeB, metrics, requests } = await linked(clock)
    const key = await generateKeyPair('Ed25519')
    const s = peerIdFromPrivateKey(key).toString()
    for (const seq of [1, 2, 4, 5]) {
      const m = await signed(key, seq)
      storeA.insert(m, 'lobby', 0)
      storeB.insert(m, 'lobby', 0)
    }
    expect(storeA.head('lobby', s)).toBe(2)
    for (let i = 0; i < GAP_GIVE_UP_PULLS; i++) await pullOnce(a, clock)
    expect(storeA.head('lobby', s)).toBe(5)
    expect((await metrics.snapshot()).mesh_chat_gaps_abandoned_total).toEqual({ total: 1 })
    const asked = requests.length
    await pullOnce(a, clock)
    expect(requests.length).toBe(asked + 1)
    expect(requests.at(-1)?.have[s]).toBe(5)
    // A message from the hole that turns up later is still stored.
    expect(storeA.insert(await signed(key, 3), 'lobby', 0)).toBe(true)
    await a.stop()
  })

  it('pulled messages of one author are held to its rate: a burst, then the refill', async () => {
    const clock = new FakeClock()
    const { a, storeA, storeB, metrics } = await linked(clock)
    const key = await generateKeyPair('Ed25519')
    const flood = peerIdFromPrivateKey(key).toString()
    for (let seq = 1; seq <= 1000; seq++) storeB.insert(await signed(key, seq), 'lobby', 0)
    await pullOnce(a, clock)
    expect(storeA.head('lobby', flood)).toBe(200)
    const limited = async (): Promise<number> => (await metrics.snapshot()).mesh_chat_dropped_total?.['via=sync,reason=rate-limited'] ?? 0
    expect(await limited()).toBeGreaterThan(0)
    await clock.advance(1000)
    await pullOnce(a, clock)
    expect(storeA.head('lobby', flood)).toBe(300)
    await a.stop()
  })
})
