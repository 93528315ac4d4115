import { EventEmitter } from 'node:events'
import { createServer, get, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { StoredMessage } from '../../../node/chat/chat-store.ts'
import { DashboardFeed, MAX_CLIENT_BACKLOG_BYTES, MAX_MEMBER_EVENTS } from '../../../node/dashboard/dashboard-feed.ts'
import type { MembershipEvents } from '../../../node/membership/events.ts'
import type { Member, MemberTransition } from '../../../node/membership/member.ts'
import { MeshMetrics } from '../../../node/metrics/metrics.ts'
import { FakeClock } from '../../../node/time/fake-clock.ts'

function member (id: string, nick: string, state: Member['state'] = 'alive'): Member {
  return {
    id, nick, state, incarnation: 1, seq: 1, workers: { total: 2, free: 2 }, queue: 0, load: 0,
    services: [], roles: [], version: '0.1.0', addrs: [], lastSeenAt: 0, stateSince: 0
  } as Member
}

function message (i: number, text: string): StoredMessage {
  return { id: `m${i}`, conversation: 'lobby', room: 'lobby', from: 'peer-b', nick: 'bob', ts: i, lc: 0, seq: i, text, sig: '', v: 1, receivedAt: i } as unknown as StoredMessage
}

/** A feed over a fake node, served by a real HTTP server on loopback; pages are real sockets. */
function setup () {
  const clock = new FakeClock()
  const membership = Object.assign(new EventEmitter<MembershipEvents>(), {
    selfMember: () => member('peer-a', 'alice'),
    members: () => others
  })
  const chat = Object.assign(new EventEmitter<{ message: [StoredMessage] }>(), {
    rooms: () => ['lobby'],
    peers: { label: (_id: string, nick: string) => nick }
  })
  const jobs = { list: () => [], running: () => new Map() }
  let others: Member[] = [member('peer-b', 'bob')]
  const metrics = new MeshMetrics()
  const feed = new DashboardFeed({ membership, chat: chat as any, jobs, metrics, graph: async () => ({ 'peer-a': ['peer-b'] }), clock })
  const server = createServer((_req, res) => { feed.open(res) })
  const transition = (t: Omit<MemberTransition, 'member'> & { member: Member }): void => {
    others = [t.member]
    membership.emit(t.to === 'dead' ? 'member:dead' : 'member:update', t)
  }
  return { clock, feed, server, chat, transition, metrics }
}

/** Opens the feed; collects its events as they come. */
async function follow (server: Server): Promise<{ res: IncomingMessage, events: Array<{ event: string, data: any }> }> {
  const { port } = server.address() as AddressInfo
  const res = await new Promise<IncomingMessage>((resolve, reject) => { get({ host: '127.0.0.1', port, path: '/' }, resolve).on('error', reject) })
  const events: Array<{ event: string, data: any }> = []
  let buffer = ''
  res.setEncoding('utf8')
  res.on('data', (chunk: string) => {
    buffer += chunk
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const frame = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      const event = /^event: (.*)$/m.exec(frame)?.[1]
      const data = /^data: (.*)$/m.exec(frame)?.[1]
      if (event != null && data != null) events.push({ event, data: JSON.parse(data) })
    }
  })
  return { res, events }
}

async function until (check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise(resolve => setTimeout(resolve, 10))
  expect(check()).toBe(true)
}

describe('DashboardFeed', () => {
  let stop: () => Promise<void> = async () => {}
  afterEach(async () => { await stop() })

  async function started () {
    const s = setup()
    s.feed.start()
    await new Promise<void>(resolve => s.server.listen(0, '127.0.0.1', resolve))
    stop = async () => {
      s.feed.stop()
      s.server.closeAllConnections()
      await new Promise(resolve => s.server.close(resolve))
    }
    return s
  }

  it('starts a page with a snapshot, then sends state changes at once and the members every second', async () => {
    const { clock, server, transition } = await started()
    const page = await follow(server)
    await until(() => page.events.length === 1)
    expect(page.events[0].event).toBe('snapshot')
    expect(page.events[0].data.members.map((m: any) => m.nick)).toEqual(['alice', 'bob'])
    transition({ member: member('peer-b', 'bob', 'dead'), from: 'alive', to: 'dead', cause: 'unreachable' })
    await until(() => page.events.some(e => e.event === 'member'))
    const change = page.events.find(e => e.event === 'member')!.data
    expect(change.event).toMatchObject({ nick: 'bob', from: 'alive', to: 'dead', cause: 'unreachable' })
    expect(change.member).toMatchObject({ state: 'dead', cause: 'unreachable' })
    await clock.advance(1000)
    await until(() => page.events.some(e => e.event === 'tick'))
    const tick = page.events.find(e => e.event === 'tick')!.data
    // A dead member stays listed, with why.
    expect(tick.members.find((m: any) => m.nick === 'bob')).toMatchObject({ state: 'dead', cause: 'unreachable' })
    await until(() => page.events.some(e => e.event === 'graph'))
    expect(page.events.find(e => e.event === 'graph')!.data.graph).toEqual({ 'peer-a': ['peer-b'] })
  })

  it(`keeps the last ${MAX_MEMBER_EVENTS} membership events for the time axis`, async () => {
    const { server, transition } = await started()
    for (let i = 0; i < MAX_MEMBER_EVENTS + 200; i++) {
      transition({ member: member('peer-b', 'bob', i % 2 === 0 ? 'suspect' : 'alive'), from: i % 2 === 0 ? 'alive' : 'suspect', to: i % 2 === 0 ? 'suspect' : 'alive', cause: 'missed-heartbeats' })
    }
    const page = await follow(server)
    await until(() => page.events.length >= 1)
    expect(page.events[0].data.memberEvents).toHaveLength(MAX_MEMBER_EVENTS)
  })

  it('cuts a page that stops reading instead of buffering for it; the others go on', async () => {
    const { server, chat, feed, metrics } = await started()
    const stalled = await follow(server)
    const reading = await follow(server)
    await until(() => stalled.events.length === 1 && reading.events.length === 1)
    stalled.res.pause()
    const text = 'x'.repeat(4000)
    // Until the feed gives up on it: past the backlog bound and what the kernel's socket
    // buffers take first (several MiB on loopback); 64 MiB at most.
    for (let i = 0; i < 64 * MAX_CLIENT_BACKLOG_BYTES / 4000 && feed.clientCount === 2; i++) {
      chat.emit('message', message(i, text))
      if (i % 50 === 0) await new Promise(resolve => setTimeout(resolve, 1))
    }
    // Cut: the feed holds one page now (the stalled socket notices once it reads again).
    expect(feed.clientCount).toBe(1)
    const counted = await metrics.snapshot()
    expect(counted.mesh_dashboard_feeds_total).toMatchObject({ 'outcome=opened': 2, 'outcome=cut': 1 })
    expect(counted.mesh_dashboard_feeds_open.total).toBe(1)
    chat.emit('message', message(1_000_000, 'still here'))
    await until(() => reading.events.some(e => e.event === 'chat' && e.data.text === 'still here'))
  })
})
