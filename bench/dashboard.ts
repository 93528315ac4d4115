/**
 * Dashboard benchmark: what the page costs the browser as the mesh grows.
 *
 *   npm run bench:dashboard -- [--members 3,50,200] [--seconds 10] [--runs 3] [--json]
 *
 * Serves the real page and the real DashboardFeed (node/dashboard/) from a node:http server
 * on loopback, over a synthetic member table of each size: every member heartbeats, one
 * member changes state every 100 ms (10 membership events a second), 5 chat messages a
 * second arrive in the open room, and every member reports 8 connections. Headless Chromium
 * (/usr/bin/chromium) keeps the page open; Chrome's own counters (CDP Performance.getMetrics)
 * give the main thread's busy time (tasks: script, style, layout, paint) per second of wall
 * time, and a PerformanceObserver counts long tasks (over 50 ms, the ones a user feels).
 * Measured after a warm-up (`--warmup`, 8 s) in which the graph's first layout settles.
 * Sizes run alternately, `--runs` rounds, medians reported; the ratio is against the smallest
 * size. Progress on stderr, the table (or --json) on stdout.
 */
import { execFileSync } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { cpus, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import type { StoredMessage } from '../node/chat/chat-store.ts'
import { DashboardFeed } from '../node/dashboard/dashboard-feed.ts'
import { PAGE_SECURITY_HEADERS, StaticAssets } from '../node/dashboard/static-assets.ts'
import type { MembershipEvents } from '../node/membership/events.ts'
import type { Member, MemberState } from '../node/membership/member.ts'
import { MeshMetrics } from '../node/metrics/metrics.ts'
import { systemClock } from '../node/time/clock.ts'
import { launchChromium } from '../test/utils/browser.ts'

const { values: args } = parseArgs({
  options: {
    members: { type: 'string', default: '3,50,200' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '8' },
    runs: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false }
  }
})
const SIZES = args.members.split(',').map(Number)
const SECONDS = Number(args.seconds)
const WARMUP = Number(args.warmup)
const RUNS = Number(args.runs)
const log = (text: string): void => { process.stderr.write(`${text}\n`) }

interface Measure { busyMsPerS: number, scriptMsPerS: number, layoutMsPerS: number, styleMsPerS: number, longTasks: number }

/** A fake node's state with `size` members, changing as described above while `run` is on. */
function syntheticNode (size: number) {
  const now = (): number => Date.now()
  const ids = Array.from({ length: size }, (_, i) => `12D3KooWbench${String(i).padStart(40, '0')}`)
  const members: Member[] = ids.map((id, i) => ({
    id, nick: `node${i}`, state: 'alive', incarnation: 1, seq: 1, workers: { total: 2, free: 2 }, queue: 0, load: 0,
    services: ['primes.count'], roles: [], version: '0.1.0', addrs: [], lastSeenAt: now(), stateSince: now()
  }) as unknown as Member)
  const membership = Object.assign(new EventEmitter<MembershipEvents>(), { selfMember: () => members[0], members: () => members.slice(1) })
  const chat = Object.assign(new EventEmitter<{ message: [StoredMessage] }>(), { rooms: () => ['lobby'], peers: { label: (_id: string, nick: string) => nick } })
  const graph = Object.fromEntries(ids.map((id, i) => [id, Array.from({ length: Math.min(8, size - 1) }, (_, k) => ids[(i + k + 1) % size])]))
  const feed = new DashboardFeed({
    membership, chat: chat as any, jobs: { list: () => [], running: () => new Map() }, metrics: new MeshMetrics(), graph: async () => graph, clock: systemClock
  })
  let n = 0
  const timers = [
    setInterval(() => {
      for (const m of members) { m.lastSeenAt = now(); m.load = Math.round(Math.random() * 100) / 100 }
      const m = members[1 + (n++ % Math.max(1, size - 1))]
      if (m == null || size < 2) return
      const from = m.state
      const to: MemberState = from === 'alive' ? 'suspect' : 'alive'
      m.state = to
      m.stateSince = now()
      membership.emit(to === 'suspect' ? 'member:update' : 'member:join', { member: m, from, to, cause: to === 'suspect' ? 'missed-heartbeats' : 'refuted' })
    }, 100),
    setInterval(() => {
      const i = n++
      chat.emit('message', { id: `m${i}`, conversation: 'lobby', room: 'lobby', from: ids[i % size], nick: `node${i % size}`, ts: now(), lc: 0, seq: i, text: `message ${i}`, sig: '', v: 1, receivedAt: now() } as unknown as StoredMessage)
    }, 200)
  ]
  return { feed, stop: () => { for (const t of timers) clearInterval(t) } }
}

async function measure (size: number, browser: Awaited<ReturnType<typeof launchChromium>>): Promise<Measure> {
  const node = syntheticNode(size)
  const assets = new StaticAssets()
  node.feed.start()
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (path === '/api/events') { node.feed.open(res); return }
    if (path === '/api/chat/history') { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"conversation":"lobby","name":"lobby","messages":[]}'); return }
    assets.get(path).then(asset => {
      if (asset == null) { res.writeHead(404); res.end(); return }
      res.writeHead(200, { ...PAGE_SECURITY_HEADERS, 'content-type': asset.type })
      res.end(asset.body)
    }, () => { res.writeHead(500); res.end() })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } })
  try {
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
    await page.waitForFunction(`document.querySelectorAll('#member-table tbody tr').length === ${size}`, null, { timeout: 30_000 })
    // The steady state: the first layout of the graph settles first.
    await new Promise(resolve => setTimeout(resolve, WARMUP * 1000))
    await page.evaluate(`window.longTasks = 0; new PerformanceObserver(list => { window.longTasks += list.getEntries().length }).observe({ entryTypes: ['longtask'] })`)
    const cdp = await page.context().newCDPSession(page)
    await cdp.send('Performance.enable')
    const read = async (): Promise<Record<string, number>> => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map(m => [m.name, m.value]))
    const before = await read()
    const started = Date.now()
    await new Promise(resolve => setTimeout(resolve, SECONDS * 1000))
    const after = await read()
    const wall = (Date.now() - started) / 1000
    const per = (name: string): number => Math.round((after[name] - before[name]) * 1000 / wall * 10) / 10
    return { busyMsPerS: per('TaskDuration'), scriptMsPerS: per('ScriptDuration'), layoutMsPerS: per('LayoutDuration'), styleMsPerS: per('RecalcStyleDuration'), longTasks: Number(await page.evaluate('window.longTasks')) }
  } finally {
    await page.close()
    node.feed.stop()
    node.stop()
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
  }
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] }
const cpuName = (() => { try { return execFileSync('lscpu').toString().match(/Model name:\s*(.+)/)?.[1] ?? 'unknown' } catch { return 'unknown' } })()
log(`bench:dashboard on ${cpus().length} x ${cpuName}, load ${loadavg()[0].toFixed(2)}`)
const browser = await launchChromium()
const results = new Map<number, Measure[]>(SIZES.map(s => [s, []]))
try {
  for (let run = 1; run <= RUNS; run++) {
    for (const size of SIZES) {
      const m = await measure(size, browser)
      results.get(size)?.push(m)
      log(`run ${run}: ${size} members: busy ${m.busyMsPerS} ms/s, script ${m.scriptMsPerS}, layout ${m.layoutMsPerS}, style ${m.styleMsPerS}, long tasks ${m.longTasks}`)
    }
  }
} finally {
  await browser.close()
}
const rows = SIZES.map(size => {
  const ms = results.get(size) ?? []
  return { members: size, busyMsPerS: median(ms.map(m => m.busyMsPerS)), scriptMsPerS: median(ms.map(m => m.scriptMsPerS)), layoutMsPerS: median(ms.map(m => m.layoutMsPerS)), styleMsPerS: median(ms.map(m => m.styleMsPerS)), longTasks: median(ms.map(m => m.longTasks)) }
})
const base = rows[0].busyMsPerS
const report = { cpus: cpus().length, cpu: cpuName, loadavg1: Math.round(loadavg()[0] * 100) / 100, seconds: SECONDS, runs: RUNS, rows }
if (args.json) {
  process.stdout.write(JSON.stringify(report) + '\n')
} else {
  process.stdout.write(`dashboard page in headless Chromium, ${SECONDS} s per run, medians of ${RUNS} (${cpus().length} x ${cpuName}, load ${report.loadavg1} at the end)\n\n`)
  process.stdout.write('| members | main thread busy (ms/s) | script | style | layout | long tasks (>50 ms) | busy vs the smallest |\n|---:|---:|---:|---:|---:|---:|---:|\n')
  for (const r of rows) process.stdout.write(`| ${r.members} | ${r.busyMsPerS} | ${r.scriptMsPerS} | ${r.styleMsPerS} | ${r.layoutMsPerS} | ${r.longTasks} | ${(r.busyMsPerS / base).toFixed(2)}× |\n`)
}
