import { copyFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import cliProgress from 'cli-progress'
import type { MeshNode } from '../../node/mesh-node.ts'
import { countSentence, shardsDoneLine, type CountReport, type PeerLookup, type PeerShare } from '../job-progress.ts'
import { callNode, NoNodeRunningError, streamFromNode } from '../control-client.ts'
import { UsageError, WorkFailedError } from '../errors.ts'
import { bigintJson } from '../../protocols/json-bigint.ts'
import type { CountMethod } from './count-method.ts'

/** How long a temporary node waits for peers to show up before counting. */
const PEER_WAIT_MS = 5000
/** Once a peer is there, a little longer for the rest of the mesh to arrive. */
const PEER_SETTLE_MS = 1000
/** How often the progress bar learns the members' nicks and states from the node. */
const MEMBERS_REFRESH_MS = 1000

export interface DistributedCountOptions {
  home: string
  json?: boolean
  verify?: boolean
  /** For a temporary node: peers to join through, mDNS, worker threads. */
  bootstrap?: string[]
  mdns?: boolean
  workers?: number
  method?: CountMethod
}

interface DoneEvent { type: 'done', id: string, report: Record<string, any> }

/**
 * `mesh primes count FROM TO` without --local: the node running in --home coordinates the
 * job across the mesh; with no node there, a temporary one joins, counts and leaves.
 */
export async function countDistributed (from: bigint, to: bigint, opts: DistributedCountOptions): Promise<void> {
  const method = opts.method ?? 'sieve'
  const running = await callNode(opts.home, 'id').then(() => true, (err: Error) => {
    if (err instanceof NoNodeRunningError) return false
    throw err
  })
  let report: Record<string, any>
  let lookup: PeerLookup
  if (running) {
    const members = membersOfNode(opts.home)
    lookup = members.lookup
    try {
      report = await followJob(streamFromNode(opts.home, 'jobs.start', { from: from.toString(), to: to.toString(), verify: opts.verify === true, method }), lookup)
    } finally {
      members.stop()
    }
  } else {
    // Filled while the temporary node runs: it is gone by the time the result is printed.
    const known = new Map<string, { nick: string, state: string }>()
    lookup = id => known.get(id)
    report = await withTemporaryNode(opts, async (node, signal) => {
      const live: PeerLookup = id => {
        const m = id === node.peerId ? node.membership.selfMember() : node.membership.member(id)
        if (m != null) known.set(id, { nick: m.nick, state: m.state })
        return known.get(id)
      }
      return await followJob(node.jobs.count(from, to, opts.verify === true, signal, method), live, signal, report => {
        for (const p of report.peers) live(p.id)
        for (const id of report.liars ?? []) live(id)
      })
    })
  }
  print(report, opts, lookup)
}

/** Shows the job's progress until its report arrives; `signal` is the user's Ctrl-C. */
async function followJob (events: AsyncIterable<any>, lookup: PeerLookup, signal?: AbortSignal, onReport?: (report: Record<string, any>) => void): Promise<Record<string, any>> {
  const bar = new PeerProgressBar(lookup)
  try {
    for await (const event of events) {
      if (event.type === 'progress') bar.update(event)
      if (event.type === 'done') {
        onReport?.((event as DoneEvent).report)
        return (event as DoneEvent).report
      }
    }
  } catch (err) {
    if (signal?.aborted !== true) throw err
  } finally {
    bar.stop()
  }
  if (signal?.aborted === true) throw new WorkFailedError('cancelled')
  throw new WorkFailedError('the node ended the job stream without a result')
}

async function withTemporaryNode<T> (opts: DistributedCountOptions, fn: (node: MeshNode, signal: AbortSignal) => Promise<T>): Promise<T> {
  const { createMeshNode } = await import('../../node/mesh-node.ts')
  const home = await mkdtemp(join(tmpdir(), 'mesh-count-'))
  const releaseIdentity = await lendHomeIdentity(opts.home, home)
  const bootstrap = opts.bootstrap ?? []
  const mdns = opts.mdns ?? true
  // Joining only over loopback addresses: stay on loopback too.
  const loopbackOnly = !mdns && bootstrap.length > 0 && bootstrap.every(a => a.startsWith('/ip4/127.'))
  const node = await createMeshNode({
    home,
    nick: `count-${process.pid}`,
    transient: true,
    mdns,
    bootstrap,
    workers: opts.workers,
    listen: loopbackOnly ? ['/ip4/127.0.0.1/tcp/0'] : undefined
  }).catch(async (err: Error) => {
    await releaseIdentity()
    await rm(home, { recursive: true, force: true })
    if (err.name === 'InvalidConfigError') throw new UsageError(err.message)
    throw err
  })
  // Ctrl-C: cancel the job, then leave the mesh cleanly and remove the temporary home.
  const controller = new AbortController()
  const onInterrupt = (): void => { controller.abort() }
  process.once('SIGINT', onInterrupt)
  try {
    if (mdns || bootstrap.length > 0) await waitForPeers(() => node.membership.members().filter(m => m.state === 'alive').length)
    return await fn(node, controller.signal)
  } finally {
    process.off('SIGINT', onInterrupt)
    await node.shutdown().catch(() => {})
    await releaseIdentity()
    await rm(home, { recursive: true, force: true })
  }
}

/**
 * The temporary node takes the identity of `--home` (its peer.key, made on first use), so
 * repeated counts from one home are one member coming back, not a new stranger each time:
 * peers keep one row for it, and the mesh does not fill with identities that never return.
 * The home is locked meanwhile, as a node in it would lock it; when it cannot be (another
 * count from the same home is running), this one gets a fresh identity instead.
 */
async function lendHomeIdentity (from: string, to: string): Promise<() => Promise<void>> {
  const { lockHome } = await import('../../node/store/home-lock.ts')
  const { loadOrCreatePeerKey, PEER_KEY_FILE } = await import('../../node/store/identity.ts')
  let release: () => Promise<void>
  try {
    release = await lockHome(from)
  } catch {
    return async () => {}
  }
  try {
    await loadOrCreatePeerKey(from)
    await copyFile(join(from, PEER_KEY_FILE), join(to, PEER_KEY_FILE))
  } catch (err) {
    await release()
    throw err
  }
  return release
}

/** Waits for a first peer, then briefly for the count to stop growing. */
async function waitForPeers (alive: () => number): Promise<void> {
  const started = Date.now()
  let last = alive()
  let stableSince = Date.now()
  while (Date.now() - started < PEER_WAIT_MS) {
    await new Promise(resolve => setTimeout(resolve, 100))
    const now = alive()
    if (now !== last) { last = now; stableSince = Date.now() }
    if (last > 0 && Date.now() - stableSince >= PEER_SETTLE_MS) return
  }
}

function print (report: Record<string, any>, opts: DistributedCountOptions, lookup: PeerLookup): void {
  if (opts.json === true) {
    const out: Record<string, unknown> = {
      from: bigintJson(BigInt(report.from)),
      to: bigintJson(BigInt(report.to)),
      count: bigintJson(BigInt(report.count)),
      seconds: report.seconds,
      shards: report.shards,
      peers: report.peers.map((p: any) => ({ id: p.id, shards: p.shards, seconds: p.seconds })),
      retries: report.retries,
      reassigned: report.reassigned,
      backups: report.backups,
      method: report.method ?? 'sieve'
    }
    if (opts.verify === true) out.liars = report.liars
    process.stdout.write(JSON.stringify(out) + '\n')
    return
  }
  process.stdout.write(countSentence(report as CountReport, { verify: opts.verify === true, lookup }) + '\n')
}

/** One bar on stderr (terminals only): overall share done, ETA, and each peer's shards. */
class PeerProgressBar {
  private bar: cliProgress.SingleBar | null = null
  private readonly enabled = process.stderr.isTTY === true
  private readonly lookup: PeerLookup

  constructor (lookup: PeerLookup) {
    this.lookup = lookup
  }

  update (event: { fraction: number, peers: PeerShare[] }): void {
    if (!this.enabled) return
    if (this.bar == null) {
      this.bar = new cliProgress.SingleBar({
        stream: process.stderr,
        format: 'counting {bar} {percentage}% | ETA {eta_formatted} | {peers}',
        hideCursor: true,
        clearOnComplete: true
      }, cliProgress.Presets.shades_classic)
      this.bar.start(1000, 0, { peers: '' })
    }
    this.bar.update(Math.round(event.fraction * 1000), { peers: shardsDoneLine(event.peers, this.lookup) })
  }

  stop (): void {
    this.bar?.stop()
    this.bar = null
  }
}

/**
 * Nicks and states of the members of the node in `home`, refreshed in the background while
 * a job runs there, so the bar names peers and shows the ones that died.
 */
function membersOfNode (home: string): { lookup: PeerLookup, stop: () => void } {
  const known = new Map<string, { nick: string, state: string }>()
  const refresh = (): void => {
    callNode<{ members: Array<{ id: string, nick: string, state: string }> }>(home, 'peers').then(({ members }) => {
      for (const m of members) known.set(m.id, { nick: m.nick, state: m.state })
    }, () => {})
  }
  refresh()
  const timer = setInterval(refresh, MEMBERS_REFRESH_MS)
  timer.unref()
  return { lookup: id => known.get(id), stop: () => { clearInterval(timer) } }
}
