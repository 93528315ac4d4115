import type { ServerResponse } from 'node:http'
import type { ChatService } from '../chat/chat-service.ts'
import type { StoredMessage } from '../chat/chat-store.ts'
import type { JobService } from '../jobs/job-service.ts'
import { defaultLogger, type Log, type MeshLogger } from '../logging/logger.ts'
import type { MembershipEvents } from '../membership/events.ts'
import type { MemberTransition } from '../membership/member.ts'
import type { MembershipEventsSource, MemberView } from '../membership/member-view.ts'
import type { MeshMetrics } from '../metrics/metrics.ts'
import type { Counter, Gauge } from '../metrics/prom.ts'
import type { Clock, Timer } from '../time/clock.ts'
import { chatRow, memberEvent, memberRow, type MemberChange } from './dashboard-views.ts'
import { MetricSamples } from './metric-samples.ts'

/** Pages following the feed at once: a dashboard is for a few people; each costs a socket and a share of every event. */
export const MAX_FEED_CLIENTS = 16
/** A page this far behind (its socket not draining) is cut; it reconnects and starts from a fresh snapshot. */
export const MAX_CLIENT_BACKLOG_BYTES = 1024 * 1024
/** Membership events kept for the time axis (and for a page that opens later). */
export const MAX_MEMBER_EVENTS = 1000
/** The jobs a page is shown: the newest. */
export const MAX_JOBS_SHOWN = 20
/** Members whose last change is remembered (the member table's own bound is larger; the oldest go first). */
const MAX_CHANGES = 4096
/** The page's members, jobs and a metrics sample refresh once a second, in one message: no per-event re-render. */
const TICK_MS = 1000
/** The connection graph is asked of every node every few seconds, only while a page watches. */
const GRAPH_EVERY_TICKS = 3
/** What the browser waits before reconnecting when the feed breaks. */
const RECONNECT_MS = 2000

const MEMBER_EVENTS: Array<keyof MembershipEvents> = ['member:join', 'member:update', 'member:dead', 'member:leave']

export interface DashboardFeedComponents {
  membership: Pick<MemberView, 'selfMember' | 'members'> & MembershipEventsSource
  chat: Pick<ChatService, 'on' | 'off' | 'rooms' | 'peers'>
  jobs: Pick<JobService, 'list' | 'running'>
  metrics: MeshMetrics
  /** Each live node's connections (peer id -> the peer ids it is connected to). */
  graph: (signal: AbortSignal) => Promise<Record<string, string[]>>
  clock: Clock
  logger?: MeshLogger
}

/**
 * The dashboard's live feed, as server-sent events: a `snapshot` when a page connects, then
 * `member` (a state change, at once), `chat` (a new message, at once), `tick` (every member,
 * a metrics sample, and the jobs when they moved; once a second) and `graph` (every few
 * seconds). Bounded: at most MAX_FEED_CLIENTS pages, each at most MAX_CLIENT_BACKLOG_BYTES
 * behind.
 */
export class DashboardFeed {
  private readonly c: DashboardFeedComponents
  private readonly log: Log
  private readonly clients = new Set<ServerResponse>()
  private readonly samples: MetricSamples
  private readonly memberEvents: Array<Record<string, unknown>> = []
  private readonly changes = new Map<string, MemberChange>()
  private graph: Record<string, string[]> = {}
  private graphController?: AbortController
  private ticks = 0
  private timer?: Timer
  private lastJobs = ''
  private runningBefore = 0
  private readonly feeds: Counter
  private readonly openFeeds: Gauge

  constructor (components: DashboardFeedComponents) {
    this.c = components
    this.log = (components.logger ?? defaultLogger).forComponent('dashboard')
    this.samples = new MetricSamples(components.metrics)
    this.feeds = components.metrics.counter('mesh_dashboard_feeds_total', 'dashboard feeds by outcome: opened, refused (too many), cut (the page stopped reading)', ['outcome'])
    this.openFeeds = components.metrics.gauge('mesh_dashboard_feeds_open', 'dashboard pages following this node now')
  }

  get clientCount (): number {
    return this.clients.size
  }

  start (): void {
    if (this.timer != null) return
    for (const event of MEMBER_EVENTS) this.c.membership.on(event, this.onMember)
    this.c.chat.on('message', this.onMessage)
    this.timer = this.c.clock.setInterval(() => { this.tick().catch(err => { this.log('dashboard tick failed: %s', err?.message) }) }, TICK_MS).unref()
  }

  stop (): void {
    if (this.timer == null) return
    this.timer.clear()
    this.timer = undefined
    for (const event of MEMBER_EVENTS) this.c.membership.off(event, this.onMember)
    this.c.chat.off('message', this.onMessage)
    this.graphController?.abort()
    for (const res of this.clients) res.end()
    this.clients.clear()
    this.openFeeds.set(0)
  }

  /** Answers GET /api/events: a 503 when the feed is full, else the stream until the page goes. */
  open (res: ServerResponse): void {
    if (this.clients.size >= MAX_FEED_CLIENTS) {
      this.feeds.inc({ outcome: 'refused' })
      const body = JSON.stringify({ error: `at most ${MAX_FEED_CLIENTS} dashboards may follow this node at once` }) + '\n'
      res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'retry-after': '10' })
      res.end(body)
      return
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' })
    res.write(`retry: ${RECONNECT_MS}\n\n`)
    this.clients.add(res)
    this.feeds.inc({ outcome: 'opened' })
    this.openFeeds.set(this.clients.size)
    res.on('close', () => { this.clients.delete(res); this.openFeeds.set(this.clients.size) })
    this.send(res, 'snapshot', this.snapshot())
  }

  private snapshot (): Record<string, unknown> {
    const self = this.c.membership.selfMember()
    return {
      now: this.c.clock.now(),
      self: self.id,
      members: this.memberRows(),
      memberEvents: this.memberEvents,
      rooms: this.c.chat.rooms(),
      jobs: this.jobs(),
      samples: this.samples.all(),
      graph: this.graph
    }
  }

  private memberRows (): Array<Record<string, unknown>> {
    const self = this.c.membership.selfMember()
    return [self, ...this.c.membership.members()].map(m => memberRow(m, this.changes.get(m.id)))
  }

  private jobs (): Array<Record<string, unknown>> {
    const running = this.c.jobs.running()
    return this.c.jobs.list().slice(-MAX_JOBS_SHOWN).reverse().map(j => ({ ...j, live: running.get(String(j.id)) ?? null }))
  }

  private async tick (): Promise<void> {
    const now = this.c.clock.now()
    const sample = await this.samples.sample(now)
    if (this.clients.size === 0) return
    const tick: Record<string, unknown> = { now, members: this.memberRows(), rooms: this.c.chat.rooms(), sample: sample ?? null }
    // The journal is read only while jobs run, and once more when one ends (or starts).
    const running = this.c.jobs.running().size
    if (running > 0 || running !== this.runningBefore) {
      const jobs = this.jobs()
      const text = JSON.stringify(jobs)
      if (text !== this.lastJobs) tick.jobs = jobs
      this.lastJobs = text
    }
    this.runningBefore = running
    this.broadcast('tick', tick)
    if (this.ticks++ % GRAPH_EVERY_TICKS === 0) this.refreshGraph()
  }

  private refreshGraph (): void {
    if (this.graphController != null) return
    const controller = new AbortController()
    this.graphController = controller
    this.c.graph(controller.signal).then(graph => {
      this.graph = graph
      this.broadcast('graph', { graph })
    }, err => { this.log('gathering the connection graph failed: %s', err?.message) }).finally(() => { this.graphController = undefined })
  }

  private readonly onMember = (t: MemberTransition): void => {
    const at = this.c.clock.now()
    this.changes.delete(t.member.id)
    this.changes.set(t.member.id, { at, from: t.from, to: t.to, cause: t.cause })
    if (this.changes.size > MAX_CHANGES) this.changes.delete(this.changes.keys().next().value as string)
    const event = memberEvent(t, at)
    this.memberEvents.push(event)
    if (this.memberEvents.length > MAX_MEMBER_EVENTS) this.memberEvents.shift()
    this.broadcast('member', { event, member: memberRow(t.member, this.changes.get(t.member.id)) })
  }

  private readonly onMessage = (m: StoredMessage): void => {
    if (this.clients.size === 0) return
    this.broadcast('chat', chatRow(m, this.c.chat.peers.label(m.from, m.nick)))
  }

  private broadcast (event: string, data: unknown): void {
    if (this.clients.size === 0) return
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
    for (const res of this.clients) this.write(res, frame)
  }

  private send (res: ServerResponse, event: string, data: unknown): void {
    this.write(res, `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
  }

  private write (res: ServerResponse, frame: string): void {
    if (res.writableLength > MAX_CLIENT_BACKLOG_BYTES) {
      // A page that stopped reading (a sleeping laptop, a stalled tab): cut it rather than buffer for it.
      this.log('cutting a dashboard %d bytes behind', res.writableLength)
      this.feeds.inc({ outcome: 'cut' })
      this.clients.delete(res)
      this.openFeeds.set(this.clients.size)
      res.destroy()
      return
    }
    res.write(frame)
  }
}
