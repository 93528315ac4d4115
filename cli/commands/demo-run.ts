import { callNode, streamFromNode } from '../control-client.ts'
import { WorkFailedError } from '../errors.ts'
import { printJson } from '../output.ts'
import { MAX_DEMO_NODES } from './demo.ts'
import { DemoMesh, type DemoNode } from './demo-mesh.ts'
import { DemoProgress } from './demo-progress.ts'

const NICKS = ['ada', 'bob', 'cy', 'dee', 'eve', 'fay', 'gus', 'hal', 'ivy', 'jon', 'kai', 'liv'].slice(0, MAX_DEMO_NODES)
/** π(10^10), the known count: the demo's result is checked against it. */
const TO = 10_000_000_000n
const PI_OF_TO = 455_052_511n
/** The count is this far along when one node is killed. */
const KILL_AT = 0.25
/** Loopback only, one worker thread each: N nodes share this machine's cores. */
const NODE_ARGS = ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--workers', '1']
const WAIT_MS = 30_000

export interface DemoOptions { nodes: number, exit?: boolean, http: boolean, json?: boolean }

/** Runs the demo's steps, then (without --exit) waits for Ctrl-C; always stops every node and removes the homes. */
export async function runDemo (opts: DemoOptions): Promise<void> {
  const say = (text: string, json: Record<string, unknown>): void => {
    if (opts.json === true) printJson(json)
    else process.stdout.write(`${text}\n`)
  }
  const mesh = await DemoMesh.create()
  // Ctrl-C (or SIGTERM) at any point: every node leaves, the homes go, the demo ends.
  const interrupted = new AbortController()
  const onSignal = (): void => { interrupted.abort() }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    const run = steps(mesh, opts, say, interrupted.signal)
    // Interrupted mid-way: the steps still under way fail as their nodes go; nobody needs their error.
    run.catch(() => {})
    await Promise.race([run, aborted(interrupted.signal)])
    if (opts.exit !== true && !interrupted.signal.aborted) {
      say('the mesh keeps running: Ctrl-C stops every node and removes its home', { step: 'running' })
      await aborted(interrupted.signal)
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await mesh.stop()
    say('stopped every node and removed their homes', { step: 'stopped' })
  }
}

type Say = (text: string, json: Record<string, unknown>) => void

async function steps (mesh: DemoMesh, opts: DemoOptions, say: Say, signal: AbortSignal): Promise<void> {
  const nicks = NICKS.slice(0, opts.nodes)
  say(`mesh demo: ${opts.nodes} nodes on this machine, on loopback, homes under ${mesh.base}`, { step: 'begin', nodes: opts.nodes, base: mesh.base })

  // 1. Start: the first node (with the dashboard), then the others joining through it.
  const first = await mesh.start(nicks[0], [...NODE_ARGS, ...(opts.http ? ['--http', '127.0.0.1:0'] : [])])
  const rest = await Promise.all(nicks.slice(1).map(async nick => await mesh.start(nick, [...NODE_ARGS, '--bootstrap', first.addr])))
  const nodes = [first, ...rest]
  const dashboard = opts.http ? await dashboardUrl(first) : null
  say(`1. started ${nicks.join(', ')} (pids ${nodes.map(n => n.child.pid).join(', ')})${dashboard != null ? `; dashboard: ${dashboard}` : ''}`,
    { step: 'started', nodes: nodes.map(n => ({ nick: n.nick, id: n.id, pid: n.child.pid, home: n.home })), dashboard })

  // 2. Discovery: every node sees every other one alive.
  const t0 = Date.now()
  await until('every node to see the others alive', signal, async () => {
    const views = await Promise.all(nodes.map(async n => await callNode<{ members: Array<{ id: string, state: string }> }>(n.home, 'peers')))
    return views.every(v => v.members.filter(m => m.state === 'alive').length === nodes.length)
  })
  const found = (Date.now() - t0) / 1000
  say(`2. found each other: every node sees the ${nodes.length - 1} others alive (${found.toFixed(1)} s, gossip heartbeats)`, { step: 'found', seconds: found })

  // 3. Chat: two lines in #lobby, read back on the last node.
  const lines = [[first, `hello from ${first.nick}`], [nodes[1], `hi ${first.nick}, ${nodes[1].nick} here`]] as const
  for (const [node, text] of lines) await callNode(node.home, 'chat.send', { room: 'lobby', text })
  const reader = nodes.at(-1) as DemoNode
  let seen: Array<{ nick: string, text: string }> = []
  await until(`${reader.nick} to receive the chat`, signal, async () => {
    seen = (await callNode<{ messages: Array<{ nick: string, text: string }> }>(reader.home, 'chat.history', { room: 'lobby' })).messages
    return lines.every(([, text]) => seen.some(m => m.text === text))
  })
  say(`3. a short chat in #lobby, as ${reader.nick} sees it:\n${seen.map(m => `     ${m.nick}: ${m.text}`).join('\n')}`,
    { step: 'chat', reader: reader.nick, messages: seen.map(m => ({ nick: m.nick, text: m.text })) })

  // 4-5. The count across the mesh, one node killed with -9 a quarter of the way. By the sieve,
  // though pi(10^10) by the combinatorial method takes a fraction of the time: the sieve's
  // shards are even, and the count lasts long enough to see a quarter of it pass.
  const victim = nodes.at(-1) as DemoNode
  say(`4. counting the primes up to 10^10 across the mesh, coordinated by ${first.nick}; ${victim.nick} gets kill -9 at ${KILL_AT * 100}%`, { step: 'count', from: '1', to: TO.toString(), coordinator: first.nick, victim: victim.nick })
  const nickOf = new Map(nodes.map(n => [n.id, n.nick]))
  const progress = new DemoProgress(nodes.map(n => n.nick), opts.json === true ? 'json' : process.stdout.isTTY === true ? 'bars' : 'lines')
  let killedAt: number | undefined
  let report: Record<string, any> | undefined
  let deadWatch: Promise<void> | undefined
  try {
    for await (const event of streamFromNode(first.home, 'jobs.start', { from: '1', to: TO.toString(), method: 'sieve' }, signal)) {
      if (event.type === 'progress') {
        progress.update(event.fraction, event.peers.map((p: { id: string, shards: number }) => ({ nick: nickOf.get(p.id) ?? p.id.slice(-6), shards: p.shards })))
        if (killedAt == null && event.fraction >= KILL_AT) {
          killedAt = Date.now()
          victim.child.kill('SIGKILL')
          progress.killed(victim.nick)
          progress.log(`5. kill -9 ${victim.nick} (pid ${victim.child.pid}) at ${Math.floor(event.fraction * 100)}%: its shards in flight go to the others`,
            { step: 'killed', nick: victim.nick, pid: victim.child.pid, fraction: event.fraction })
          deadWatch = watchDeath(first, victim, killedAt, progress, signal)
        }
      }
      if (event.type === 'done') report = event.report
    }
  } finally {
    progress.stop()
  }
  if (report == null) throw new WorkFailedError('the count ended without a result')
  await deadWatch
  const count = BigInt(report.count)
  const exact = count === PI_OF_TO
  const peers = report.peers.filter((p: any) => p.shards > 0).map((p: any) => `${nickOf.get(p.id) ?? p.id} ${p.shards as number}`).join(', ')
  say(`6. ${count} primes up to 10^10 in ${report.seconds as number} s: ${report.shards as number} shards (${peers}), ${report.reassigned as number} taken over after the kill; ` +
    `${exact ? 'exact: π(10^10) = 455052511' : `WRONG: π(10^10) is ${PI_OF_TO}`}`,
  { step: 'counted', count: count.toString(), expected: PI_OF_TO.toString(), exact, seconds: report.seconds, shards: report.shards, reassigned: report.reassigned, retries: report.retries, peers: report.peers.map((p: any) => ({ nick: nickOf.get(p.id) ?? p.id, shards: p.shards })) })
  if (!exact) throw new WorkFailedError(`the count was ${count}, not ${PI_OF_TO}`)
  if (dashboard != null) say(`dashboard: ${dashboard}`, { step: 'dashboard', url: dashboard })
}

/** Says when the coordinator declares the killed node dead, and why. */
async function watchDeath (observer: DemoNode, victim: DemoNode, killedAt: number, progress: DemoProgress, signal: AbortSignal): Promise<void> {
  await until(`${observer.nick} to declare ${victim.nick} dead`, signal, async () => {
    const { members } = await callNode<{ members: Array<{ id: string, state: string }> }>(observer.home, 'peers')
    return members.find(m => m.id === victim.id)?.state === 'dead'
  })
  const seconds = (Date.now() - killedAt) / 1000
  progress.log(`   ${observer.nick} declared ${victim.nick} dead ${seconds.toFixed(1)} s after the kill`, { step: 'dead', nick: victim.nick, by: observer.nick, seconds })
}

async function dashboardUrl (node: DemoNode): Promise<string> {
  let url = ''
  await until(`${node.nick} to serve its dashboard`, new AbortController().signal, async () => {
    const { members } = await callNode<{ self: string, members: Array<{ id: string, roles?: string[] }> }>(node.home, 'peers')
    const role = members.find(m => m.id === node.id)?.roles?.find(r => r.startsWith('http='))
    if (role != null) url = `http://${role.slice('http='.length)}/`
    return role != null
  })
  return url
}

async function until (what: string, signal: AbortSignal, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_MS
  while (!signal.aborted) {
    try {
      if (await check()) return
    } catch {}
    if (Date.now() > deadline) throw new WorkFailedError(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

function aborted (signal: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    if (signal.aborted) resolve()
    else signal.addEventListener('abort', () => { resolve() }, { once: true })
  })
}
