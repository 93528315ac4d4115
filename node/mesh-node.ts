import { join } from 'node:path'
import { CONTROL_SOCKET_FILE } from '../protocols/control/index.ts'
import { chatPushEnabled } from './chat/chat-push.ts'
import { ChatService } from './chat/chat-service.ts'
import { registerChatMethods } from './chat/chat-methods.ts'
import { WorkerPool } from './compute/worker-pool.ts'
import { resolveConfig, type MeshNodeConfig, type ResolvedConfig } from './config.ts'
import { registerCoreMethods } from './control/core-methods.ts'
import { ControlServer } from './control/control-server.ts'
import { registerTestHooks } from './control/test-hooks.ts'
import { Connector } from './discovery/connector.ts'
import { registerConnectionsService } from './dashboard/connection-graph.ts'
import { GatewayService } from './gateway/gateway-service.ts'
import { JobService } from './jobs/job-service.ts'
import { primesCountMethods } from './jobs/primes-count-service.ts'
import { createMeshLibp2p, type MeshLibp2p } from './libp2p/create-libp2p.ts'
import { blockedPeersFromEnv, PeerBlocklist } from './libp2p/peer-blocklist.ts'
import { PendingPerHost } from './libp2p/pending-per-host.ts'
import { GossipBudget, installGossipBudget } from './libp2p/gossip-budget.ts'
import { resetPeerOnGossipReadError } from './libp2p/gossip-read-errors.ts'
import { MembershipService } from './membership/membership-service.ts'
import { TRANSIENT_ROLE } from './membership/member.ts'
import { timingFor } from './membership/timing.ts'
import { MeshMetrics } from './metrics/metrics.ts'
import { MeshRpc } from './rpc/mesh-rpc.ts'
import { registerRpcControl } from './rpc/rpc-control.ts'
import { NodeStats } from './stats/node-stats.ts'
import { MeshDatabase } from './store/database.ts'
import { lockHome } from './store/home-lock.ts'
import { loadOrCreatePeerKey } from './store/identity.ts'
import { primesQueryMethods } from './tasks/primes-query-service.ts'
import { registerTaskControl, registerTaskServices, type TaskRunner } from './tasks/task-services.ts'
import { loadtestMethods } from './loadtest/loadtest-service.ts'
import { createMeshLogger, type MeshLogger } from './logging/logger.ts'
import { MESH_VERSION } from './version.ts'

/** Time for the goodbye to leave on the wire before the connections close under it. */
const LEAVE_FLUSH_MS = 50

export interface MeshNode {
  readonly config: ResolvedConfig
  readonly libp2p: MeshLibp2p
  readonly membership: MembershipService
  /** rpc: register services, call any peer's (balancing, retry, fallback). */
  readonly rpc: MeshRpc
  readonly chat: ChatService
  /** worker_threads for CPU work (prime shards), one per --workers. */
  readonly pool: WorkerPool
  /** Distributed jobs this node coordinates (journaled in mesh.db). */
  readonly jobs: JobService
  /** calc and text tasks asked from this home, each recorded for `mesh task results`. */
  readonly tasks: TaskRunner
  readonly metrics: MeshMetrics
  /** `mesh stats`: this node's, or every live node's over rpc `node.stats`. */
  readonly stats: NodeStats
  readonly control: ControlServer
  /** The gateway role (`--gateway`, `--http`), when the node has one. */
  readonly gateway?: GatewayService
  readonly db: MeshDatabase
  /** rpc services this node offers, advertised in every heartbeat (service discovery). */
  readonly services: Set<string>
  readonly peerId: string
  /** Announced addresses, each ending in /p2p/<id>. */
  addrs: () => string[]
  /** Clean leave (peers see "left"), then stop. */
  shutdown: () => Promise<void>
  /** Stops without a leave: peers see the node go silent, as after a crash (in-process simulations). */
  stop: () => Promise<void>
}

/** How a node is composed, beyond its configuration. */
export interface MeshNodeInit {
  /**
   * Registers the node's rpc services in place of the standard ones (`registerStandardServices`:
   * the task services and primes.count). Runs before the first heartbeat, so peers learn
   * what it registers with the node. Tests compose nodes with test services this way (a
   * counter that answers wrong counts, slow task services, none at all); a hook that only
   * adds services calls `registerStandardServices(node)` first.
   */
  services?: (node: MeshNode) => void
  /**
   * Peers this node refuses to talk to, with the `test.block` control method to change them:
   * how an in-process simulation cuts its mesh. MESH_TEST_HOOKS=1 gives every node one.
   */
  blocklist?: PeerBlocklist
}

/** The rpc services a node offers unless told otherwise. */
export function registerStandardServices (node: MeshNode, logger: MeshLogger = createMeshLogger(node.config.nick)): void {
  registerTaskServices(node.rpc)
  if (node.config.allowLoadTest) node.rpc.register('loadtest', loadtestMethods())
  // One `primes` service: shard counts for jobs, primality and short lists for the gateway.
  node.rpc.register('primes', {
    ...primesCountMethods({ pool: node.pool, metrics: node.metrics, clock: node.config.clock, logger }),
    ...primesQueryMethods(node.pool)
  }, { idempotent: true, inline: ['test'] })
}

/**
 * Assembles and starts one node: locks the home, loads the identity, starts libp2p, the
 * membership service, the connector and the control socket. Each service has start/stop
 * and takes its dependencies as arguments.
 */
export async function createMeshNode (input: MeshNodeConfig, init: MeshNodeInit = {}): Promise<MeshNode> {
  const config = resolveConfig(input)
  const releaseHome = await lockHome(config.home)
  try {
    return await assemble(config, init, releaseHome)
  } catch (err) {
    await releaseHome()
    throw err
  }
}

async function assemble (config: ResolvedConfig, init: MeshNodeInit, releaseHome: () => Promise<void>): Promise<MeshNode> {
  const metrics = new MeshMetrics()
  // Every service gets the node's clock and a logger that names the node, so nodes sharing
  // a process (tests, in-process simulations) neither share time nor mix up their logs.
  const clock = config.clock
  const logger = createMeshLogger(config.nick)
  const log = logger.forComponent('node')
  const privateKey = await loadOrCreatePeerKey(config.home)
  // Test hooks (MESH_TEST_HOOKS=1): a peer blocklist that cuts the mesh on loopback.
  const blocklist = init.blocklist ?? (process.env.MESH_TEST_HOOKS === '1' ? new PeerBlocklist(blockedPeersFromEnv(process.env)) : undefined)
  // libp2p first: it is what fails on a bad or busy --listen address, and nothing else is
  // running yet to be cleaned up then.
  const libp2p = await createMeshLibp2p({ privateKey, listen: config.listen, mdns: config.mdns, swarmKey: config.swarmKey, connectionGater: blocklist?.gater(), transport: config.transport,
    onGossipReceived: countGossipCopy(metrics),
    pendingPerHost: new PendingPerHost({ onRefused: () => { metrics.counter('mesh_connections_refused_total', 'inbound connections refused, by reason', ['reason']).inc({ reason: 'pending-per-host' }) } })
  })
  resetPeerOnGossipReadError(libp2p, (peer, err: any) => {
    metrics.counter('mesh_gossip_stream_resets_total', 'connections reset because a peer sent gossip that cannot be read (a message over the size limit, a broken length prefix)').inc()
    log('reset the connection to %s: its gossip stream broke (%s)', peer.toString(), err?.message)
  })
  installGossipBudget(libp2p.services.pubsub, new GossipBudget({ clock, logger }, {
    onDropped: (topic, reason) => { metrics.counter('mesh_gossip_dropped_total', 'gossip messages dropped before any work on them: over the budget of the peer that handed them over, or on a topic this node is not in', ['topic', 'reason']).inc({ topic, reason }) }
  }))
  const db = new MeshDatabase(config.home)
  const services = new Set<string>()
  const pool = new WorkerPool({ size: config.workers, clock })
  const addrs = (): string[] => libp2p.getMultiaddrs().map(a => a.toString())

  const membership = new MembershipService({ libp2p, metrics, clock, logger }, {
    timing: timingFor(config.heartbeatMs, config.reapAfterMs),
    admitOnHearsay: config.targetPeers != null,
    self: {
      nick: config.nick,
      version: MESH_VERSION,
      capacity: () => ({ workers: pool.capacity(), queue: pool.queued }),
      services: () => [...services].sort(),
      roles: () => [...(config.transient ? [TRANSIENT_ROLE] : []), ...(gateway?.roles() ?? [])],
      addrs: () => addrs().slice(0, 16)
    }
  })
  const connector = new Connector({ libp2p, clock, logger }, {
    bootstrap: config.bootstrap,
    intervalMs: Math.max(500, config.heartbeatMs * 2),
    targetPeers: config.targetPeers,
    members: () => membership.members(),
    candidates: () => membership.candidateAddrs()
  })
  // A peer heard of through gossip is dialled at once: the connection admits it.
  membership.on('candidate', () => { connector.dialCandidates() })
  // A member back from the dead is dialled at once: how the two sides of a healed cut meet.
  membership.on('member:join', (t) => { if (t.from === 'dead') connector.dialReturned(t.member.id) })
  // A member declared dead loses its connection: through a cut it is a zombie (see dropDead).
  membership.on('member:dead', (t) => { connector.dropDead(t.member.id) })
  const control = new ControlServer({ metrics, logger }, { path: join(config.home, CONTROL_SOCKET_FILE) })
  const rpc = new MeshRpc({
    libp2p,
    metrics,
    selfMember: () => membership.selfMember(),
    members: () => membership.members(),
    memberEvents: membership,
    services,
    clock,
    logger
  })
  const chat = new ChatService({ libp2p, metrics, db, privateKey, clock, logger, members: membership, memberChanges: membership }, { nick: config.nick, push: chatPushEnabled() })
  const jobs = new JobService({
    db, control, rpc, pool, metrics, clock, logger, selfId: libp2p.peerId.toString(), members: () => membership.members()
  })
  const stats = new NodeStats({ membership, connections: () => libp2p.getConnections().length, metrics, rpc, clock })
  const tasks = registerTaskControl({ rpc, control, peers: rpc, db, clock, logger })
  const gateway = config.gateway != null || config.http != null
    ? new GatewayService({ rpc, jobs, membership, tasks, stats, metrics, clock, logger, dashboard: { chat, memberEvents: membership, libp2p } }, {
      line: config.gateway, http: config.http, maxConnections: config.gatewayMaxConnections, idleTimeoutMs: config.gatewayIdleTimeoutMs
    })
    : undefined

  const node: MeshNode = {
    config,
    libp2p,
    membership,
    rpc,
    chat,
    pool,
    jobs,
    tasks,
    metrics,
    stats,
    control,
    gateway,
    db,
    services,
    peerId: libp2p.peerId.toString(),
    addrs,
    shutdown: async () => {
      log('shutting down')
      await membership.leave().catch(() => {})
      await clock.sleep(LEAVE_FLUSH_MS)
      await stopAll()
    },
    stop: async () => {
      log('stopping without a leave')
      await stopAll()
    }
  }
  // Every step runs even if an earlier one throws: a half-stopped node must still release
  // its home, or the next `mesh start` there would be refused.
  const stopAll = async (): Promise<void> => {
    const steps: Array<[string, () => unknown]> = [
      ['gateway', async () => { await gateway?.stop() }],
      ['membership', () => { membership.stop() }],
      ['jobs', async () => { await jobs.stop() }],
      ['rpc', async () => { await rpc.stop() }],
      ['pool', async () => { await pool.close() }],
      ['chat', async () => { await chat.stop() }],
      ['connector', () => { connector.stop() }],
      ['control', async () => { await control.stop() }],
      ['libp2p', async () => { await libp2p.stop() }],
      ['db', () => { db.close() }],
      ['home', async () => { await releaseHome() }]
    ]
    for (const [name, step] of steps) {
      try {
        await step()
      } catch (err: any) {
        log('stopping %s failed: %s', name, err?.message)
      }
    }
  }
  // Every node answers `node.stats` over rpc, so `mesh stats --mesh` can gather the mesh's.
  stats.register()
  registerConnectionsService(rpc, libp2p)
  registerCoreMethods(control, { peerId: node.peerId, nick: config.nick, addrs, membership, stats, clock })
  registerRpcControl(control, rpc)
  registerChatMethods(control, chat)
  if (blocklist != null) registerTestHooks(control, { libp2p, blocklist, membership, clock })

  try {
    // Registered before the first heartbeat, so peers learn the services with the node.
    if (init.services != null) init.services(node)
    else registerStandardServices(node, logger)
    await rpc.start()
    membership.start()
    connector.start()
    await chat.start()
    jobs.start()
    await control.start()
    await gateway?.start()
  } catch (err) {
    // A failed start (say, a control socket path too long) must not leave libp2p, the
    // workers and the database running with nobody to stop them.
    await stopAll()
    throw err
  }
  log('started %s as %s', config.nick, node.peerId)
  return node
}

/** Gossip copies received per kind of topic (chat rooms as one): duplicates show the fan-out cost. */
function countGossipCopy (metrics: MeshMetrics): (topic: string) => void {
  const copies = metrics.counter('mesh_gossip_copies_received_total', 'gossip message copies received, duplicates included', ['topic'])
  return topic => { copies.inc({ topic: topic.startsWith('mesh/chat/') ? 'chat' : topic === 'mesh/membership/1' ? 'membership' : 'other' }) }
}
