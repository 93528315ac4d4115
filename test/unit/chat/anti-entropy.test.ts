import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { peerIdFromString } from '@libp2p/peer-id'
import { AntiEntropy, pullRoom, type AntiEntropyComponents } from '../../../node/chat/anti-entropy.ts'
import { ChatStore } from '../../../node/chat/chat-store.ts'
import { MeshMetrics } from '../../../node/metrics/metrics.ts'
import { MeshDatabase } from '../../../node/store/database.ts'
import { FakeClock } from '../../../node/time/fake-clock.ts'
import {
  CHAT_SYNC_PROTOCOL, decodeSyncRequest, encodeSyncRequest, MAX_DIGEST_SENDERS,
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
