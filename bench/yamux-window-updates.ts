/**
 * Window updates per half window (node/libp2p/yamux-window-updates.ts) against upstream's one
 * per data frame, side by side on this machine.
 *
 *   npm run bench:yamux-window -- [--pairs 3] [--floor-rates 120,180,360] [--chat-rates 60,120,180]
 *
 * Runs bench/yamux-stream-cost.ts (small messages on one stream: the cost per frame alone),
 * `bench:gossip-floor` and `bench:chat --no-heal` alternately with and without the change
 * (`MESH_YAMUX_UPDATE_EVERY_FRAME=1` with the test hooks restores upstream's behaviour in every
 * node), swapping which goes first in each pair, and prints per rate the median CPU per message
 * per node of each and their ratio, and chat's capacity of each run. CPU per message is what
 * to read on a shared machine; latency moves with the load more than with the change.
 */
import { execFile } from 'node:child_process'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { parseArgs } from 'node:util'

const { values: opts } = parseArgs({
  options: {
    pairs: { type: 'string', default: '3' },
    'floor-rates': { type: 'string', default: '120,180,360' },
    'chat-rates': { type: 'string', default: '60,120,180' }
  }
})
const PAIRS = Number(opts.pairs)
const UPSTREAM_ENV = { MESH_TEST_HOOKS: '1', MESH_YAMUX_UPDATE_EVERY_FRAME: '1' }
type Variant = 'half-window' | 'every-frame'

async function run (script: string, args: string[], variant: Variant): Promise<string> {
  const env = variant === 'every-frame' ? { ...process.env, ...UPSTREAM_ENV } : process.env
  return await new Promise((resolve, reject) => {
    execFile(process.execPath, [script, ...args], { env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      // bench:chat exits 1 when a target is missed; its figures are still what we compare.
      if (err != null && stdout === '') reject(new Error(`${script} failed: ${stderr.slice(-2000)}`))
      else resolve(stdout)
    })
  })
}

/** CPU µs per message (both ends) of small messages on one stream, and the window updates sent. */
async function streamCost (variant: Variant): Promise<{ cpuUsPerMessage: number, windowUpdates: number }> {
  const out = await run('bench/yamux-stream-cost.ts', [], variant)
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}')
}

/** CPU µs per message per node by rate, in all and above idle, from bench:gossip-floor's lines. */
async function floor (variant: Variant): Promise<{ cpu: Map<number, number>, aboveIdle: Map<number, number> }> {
  const out = await run('bench/gossip-floor.ts', ['--rates', opts['floor-rates']], variant)
  say(out.trim())
  const cpu = new Map<number, number>()
  const aboveIdle = new Map<number, number>()
  for (const m of out.matchAll(/^\s*(\d+)\/s .*CPU\/msg\/node (\d+) µs \(above idle (-?\d+)\)/gm)) {
    cpu.set(Number(m[1]), Number(m[2]))
    aboveIdle.set(Number(m[1]), Number(m[3]))
  }
  return { cpu, aboveIdle }
}

/** CPU µs per message per node by rate, in all and above idle, and the capacity, from bench:chat --json. */
async function chat (variant: Variant): Promise<{ cpu: Map<number, number>, aboveIdle: Map<number, number>, capacity: number }> {
  const out = await run('bench/chat.ts', ['--rates', opts['chat-rates'], '--no-heal', '--json'], variant)
  const result = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { sweep: Array<{ rate: number, achievedRate: number, latencyMs: { p99: number }, cpuUsPerMessage: { mean: number, aboveIdle: number } }>, capacity: number }
  say(result.sweep.map(s => `  ${s.rate}/s: got ${s.achievedRate}/s, p99 ${s.latencyMs.p99} ms, CPU/msg/node ${s.cpuUsPerMessage.mean} µs (above idle ${s.cpuUsPerMessage.aboveIdle})`).join('\n'))
  return {
    cpu: new Map(result.sweep.map(s => [s.rate, s.cpuUsPerMessage.mean])),
    aboveIdle: new Map(result.sweep.map(s => [s.rate, s.cpuUsPerMessage.aboveIdle])),
    capacity: result.capacity
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? Number.NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

function table (name: string, runs: Record<Variant, Array<Map<number, number>>>, what = 'CPU/msg/node'): string[] {
  const rates = [...new Set(runs['half-window'].flatMap(m => [...m.keys()]))].sort((a, b) => a - b)
  return rates.map(rate => {
    const every = runs['every-frame'].map(m => m.get(rate)).filter((x): x is number => x != null)
    const half = runs['half-window'].map(m => m.get(rate)).filter((x): x is number => x != null)
    const ratio = median(half) / median(every)
    return `${name} ${String(rate).padStart(4)}/s  ${what} every frame ${median(every)} µs [${every.join(', ')}]  half window ${median(half)} µs [${half.join(', ')}]  ratio ${ratio.toFixed(2)}`
  })
}

const say = (line: string): void => { process.stderr.write(`${line}\n`) }
say(`${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, load ${loadavg().map(l => l.toFixed(1)).join(' ')}`)
const streamRuns: Record<Variant, Array<{ cpuUsPerMessage: number, windowUpdates: number }>> = { 'half-window': [], 'every-frame': [] }
const floorRuns: Record<Variant, Array<Map<number, number>>> = { 'half-window': [], 'every-frame': [] }
const floorAboveIdle: Record<Variant, Array<Map<number, number>>> = { 'half-window': [], 'every-frame': [] }
const chatRuns: Record<Variant, Array<Map<number, number>>> = { 'half-window': [], 'every-frame': [] }
const chatAboveIdle: Record<Variant, Array<Map<number, number>>> = { 'half-window': [], 'every-frame': [] }
const capacities: Record<Variant, number[]> = { 'half-window': [], 'every-frame': [] }
for (let pair = 0; pair < PAIRS; pair++) {
  const order: Variant[] = pair % 2 === 0 ? ['every-frame', 'half-window'] : ['half-window', 'every-frame']
  for (const variant of order) {
    const s = await streamCost(variant)
    say(`pair ${pair + 1}/${PAIRS}: one stream, ${variant}: ${s.cpuUsPerMessage.toFixed(1)} µs per message, ${s.windowUpdates} window updates`)
    streamRuns[variant].push(s)
  }
  for (const variant of order) {
    say(`pair ${pair + 1}/${PAIRS}: gossip floor, ${variant} (load ${loadavg()[0].toFixed(1)})`)
    const f = await floor(variant)
    floorRuns[variant].push(f.cpu)
    floorAboveIdle[variant].push(f.aboveIdle)
  }
  for (const variant of order) {
    say(`pair ${pair + 1}/${PAIRS}: chat, ${variant} (load ${loadavg()[0].toFixed(1)})`)
    const c = await chat(variant)
    chatRuns[variant].push(c.cpu)
    chatAboveIdle[variant].push(c.aboveIdle)
    capacities[variant].push(c.capacity)
  }
}
console.log([
  `yamux window updates, ${PAIRS} alternating pairs · ${cpus()[0]?.model ?? 'unknown CPU'}, load now ${loadavg().map(l => l.toFixed(1)).join(' ')}`,
  ...(['every-frame', 'half-window'] as const).map(v => `one stream, 20,000 messages of 300 bytes, ${v}: CPU/msg (both ends) median ${median(streamRuns[v].map(r => r.cpuUsPerMessage)).toFixed(1)} µs [${streamRuns[v].map(r => r.cpuUsPerMessage.toFixed(1)).join(', ')}], window updates ${streamRuns[v].map(r => r.windowUpdates).join(', ')}`),
  `one stream ratio ${(median(streamRuns['half-window'].map(r => r.cpuUsPerMessage)) / median(streamRuns['every-frame'].map(r => r.cpuUsPerMessage))).toFixed(2)}`,
  ...table('gossip floor', floorRuns),
  ...table('gossip floor', floorAboveIdle, 'above idle'),
  ...table('chat        ', chatRuns),
  ...table('chat        ', chatAboveIdle, 'above idle'),
  `chat capacity (messages/s, sweep ${opts['chat-rates']}): every frame [${capacities['every-frame'].join(', ')}]  half window [${capacities['half-window'].join(', ')}]`
].join('\n'))
