import { copyFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import cliProgress from 'cli-progress'
import type { MeshNode } from '../../node/mesh-node.ts'
import { displayPeerId } from '../../node/peers/peer-names.ts'
import { callNode, NoNodeRunningError, streamFromNode } from '../control-client.ts'
import { UsageError, WorkFailedError } from '../errors.ts'
import { bigintJson } from '../../protocols/json-bigint.ts'
import type { CountMethod } from './count-method.ts'

/** How long a temporary node waits for peers to show up before counting. */
const PEER_WAIT_MS = 5000
/** Once a peer is there, a little longer for the rest of the mesh to arrive. */
const PEER_SETTLE_MS = 1000

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
  const report = running
    ? await followJob(streamFromNode(opts.home, 'jobs.start', { from: from.toString(), to: to.toString(), verify: opts.verify === true, method }))
    : await withTemporaryNode(opts, async (node, signal) => await followJob(node.jobs.count(from, to, opts.verify === true, signal, method), signal))
  print(report, opts)
}

/** Shows the job's progress until its report arrives; `signal` is the user's Ctrl-C. */
async function followJob (events: AsyncIterable<any>, signal?: AbortSignal): Promise<Record<string, any>> {
  const bar = new PeerProgressBar()
  try {
    for await (const event of events) {
      if (event.type === 'progress') bar.update(event)
      if (event.type === 'done') return (event as DoneEvent).report
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

function print (report: Record<string, any>, opts: DistributedCountOptions): void {
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
  const peers = report.peers.filter((p: any) => p.shards > 0).length
  const liars = opts.verify === true && report.liars.length > 0 ? ` · disagreeing peers: ${report.liars.join(', ') as string}` : ''
  process.stdout.write(`${report.count as string} primes in [${report.from as string}, ${report.to as string}] · ${report.seconds as number} s · ` +
    `${plural(report.shards as number, 'shard')} on ${peers} peer${peers === 1 ? '' : 's'} · ${report.retries as number} retries${liars}\n`)
}

function plural (n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

/** One bar on stderr (terminals only): overall share done, ETA, and each peer's shards. */
class PeerProgressBar {
  private bar: cliProgress.SingleBar | null = null
  private readonly enabled = process.stderr.isTTY === true

  update (event: { fraction: number, peers: Array<{ id: string, shards: number }> }): void {
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
    const peers = event.peers.filter(p => p.shards > 0).map(p => `${displayPeerId(p.id)} ${p.shards}`).join(' · ')
    this.bar.update(Math.round(event.fraction * 1000), { peers })
  }

  stop (): void {
    this.bar?.stop()
    this.bar = null
  }
}
