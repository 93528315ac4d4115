/**
 * Where a node's CPU went: reads a `node --cpu-prof` profile and prints each cost's share of
 * the busy time (idle excluded), then the functions with the most self time.
 *
 *   node bench/cpu-profile-summary.ts FILE.cpuprofile [--top 20]
 *
 * A sample counts for the first cost below whose test matches a frame of its stack, so a
 * signature check inside gossipsub counts as the check, not as gossipsub.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

interface CallFrame { functionName: string, url: string, lineNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame, children?: number[] }
interface Profile { nodes: ProfileNode[], samples: number[], timeDeltas: number[] }

const STARTUP = 'start-up: loading and compiling modules'
type FrameTest = (f: CallFrame) => boolean
const fn = (...names: string[]): FrameTest => f => names.includes(f.functionName)
const url = (...parts: string[]): FrameTest => f => parts.some(p => f.url.includes(p))

/** Costs in priority order: the innermost concern first, the layers that carry it after. */
const COSTS: Array<[string, FrameTest]> = [
  ['garbage collection', fn('(garbage collector)')],
  [STARTUP, url('node:internal/modules/', 'node:internal/bootstrap/', 'amaro')],
  ['gossipsub envelope signature check', fn('validateToRawMessage')],
  ['author signature check (chat)', fn('verifyChatSignature')],
  ['signing (chat + gossipsub envelope)', f => fn('signChatMessage', 'buildRawMessage')(f)],
  // Innermost: a push write runs down to Noise in one stack, and would count as chat otherwise.
  ['noise encryption', url('libp2p-noise', 'chacha', 'noble')],
  ['yamux', url('libp2p-yamux')],
  ['sqlite: storing a message', f => f.url.includes('chat-store') && ['insert', 'insertMany', 'insertOne', 'advanceHead'].includes(f.functionName)],
  ['sqlite: other chat queries', url('chat-store')],
  ['chat labels (peer directory)', url('peer-directory')],
  ['chat decode/encode (JSON, fields, content id)', url('protocols/chat/')],
  ['chat push (frames, budget, streams)', url('node/chat/chat-push', 'node/chat/stream-frames')],
  ['chat service (validator, keep, events)', url('node/chat/')],
  ['control socket (sends, reads)', url('node/control/')],
  ['gossipsub (protobuf, routing, heartbeat)', url('gossipsub')],
  ['membership', url('node/membership/', 'protocols/membership/')],
  ['metrics (prom-client)', url('prom-client', 'node/metrics/')],
  ['other libp2p / multiformats', url('libp2p', 'multiformats', 'uint8array', 'it-', 'protons')],
  ['node internals (streams, sockets, timers)', url('node:')],
  ['program / native', fn('(program)')]
]

const { values: opts, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '20' } } })
if (positionals.length !== 1) {
  process.stderr.write('usage: node bench/cpu-profile-summary.ts FILE.cpuprofile [--top N]\n')
  process.exit(2)
}
const profile = JSON.parse(readFileSync(positionals[0], 'utf8')) as Profile
const byId = new Map(profile.nodes.map(n => [n.id, n]))
const parent = new Map<number, number>()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)

const costOfNode = new Map<number, string>()
function costOf (id: number): string {
  const cached = costOfNode.get(id)
  if (cached != null) return cached
  const stack: CallFrame[] = []
  for (let at: number | undefined = id; at != null; at = parent.get(at)) stack.push(byId.get(at)!.callFrame)
  const cost = COSTS.find(([, test]) => stack.some(test))?.[0] ?? 'other'
  costOfNode.set(id, cost)
  return cost
}

const byCost = new Map<string, number>()
const bySelf = new Map<string, number>()
let busy = 0
let idle = 0
for (let i = 0; i < profile.samples.length; i++) {
  const us = profile.timeDeltas[i + 1] ?? 0
  const node = byId.get(profile.samples[i])!
  if (node.callFrame.functionName === '(idle)') { idle += us; continue }
  busy += us
  const cost = costOf(node.id)
  byCost.set(cost, (byCost.get(cost) ?? 0) + us)
  if (cost === STARTUP) continue
  const f = node.callFrame
  const where = f.url === '' ? '' : ` ${f.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(node|protocols|cli)\//, '$1/')}:${f.lineNumber + 1}`
  const self = `${f.functionName || '(anonymous)'}${where}`
  bySelf.set(self, (bySelf.get(self) ?? 0) + us)
}

const pct = (us: number): string => `${(100 * us / busy).toFixed(1).padStart(5)}%`
// Start-up is paid once, not per message: shown, but left out of the shares.
const startup = byCost.get(STARTUP) ?? 0
byCost.delete(STARTUP)
busy -= startup
const lines = [`busy ${(busy / 1e6).toFixed(1)} s of ${((busy + startup + idle) / 1e6).toFixed(1)} s profiled, after ${(startup / 1e6).toFixed(1)} s of start-up (left out below)`, '', 'cost (by stack)']
for (const [cost, us] of [...byCost].sort((a, b) => b[1] - a[1])) lines.push(`${pct(us)}  ${(us / 1e6).toFixed(2).padStart(6)} s  ${cost}`)
lines.push('', `top ${opts.top} functions by self time`)
for (const [name, us] of [...bySelf].sort((a, b) => b[1] - a[1]).slice(0, Number(opts.top))) lines.push(`${pct(us)}  ${name}`)
process.stdout.write(lines.join('\n') + '\n')
