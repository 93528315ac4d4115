import { join } from 'node:path'
import createDebug from 'debug'
import { CONTROL_SOCKET_FILE } from '../protocols/control/index.ts'
import { ChatService } from './chat/chat-service.ts'
import { registerChatMethods } from './chat/chat-methods.ts'
import { WorkerPool } from './compute/worker-pool.ts'
import { resolveConfig, type MeshNodeConfig, type ResolvedConfig } from './config.ts'
import { registerCoreMethods } from './control/core-methods.ts'
import { ControlServer } from './control/control-server.ts'
import { registerTestHooks } from './control/test-hooks.ts'
import { Connector } from './discovery/connector.ts'
import { JobService } from './jobs/job-service.ts'
import { registerPrimesCountService } from './jobs/primes-count-service.ts'
import { createMeshLibp2p, type MeshLibp2p } from './libp2p/create-libp2p.ts'
import { blockedPeersFromEnv, PeerBlocklist } from './libp2p/peer-blocklist.ts'
import { MembershipService } from './membership/membership-service.ts'
import { timingFor } from './membership/timing.ts'
import { MeshMetrics } from './metrics/metrics.ts'
import { MeshRpc } from './rpc/mesh-rpc.ts'
import { registerRpcControl } from './rpc/rpc-control.ts'
import { MeshDatabase } from './store/database.ts'
import { lockHome } from './store/home-lock.ts'
import { loadOrCreatePeerKey } from './store/identity.ts'
import { registerTaskServices } from './tasks/task-services.ts'
import { createMeshLogger } from './logging/logger.ts'
import { MESH_VERSION } from './version.ts'

const log = createDebug('mesh:node')

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
  readonly metrics: MeshMetrics
  readonly control: ControlServer
  readonly db: MeshDatabase
  /** rpc services this node offers, advertised in every heartbeat (service discovery). */
  readonly services: Set<string>
  readonly peerId: string
  /** Announced addresses, each ending in /p2p/<id>. */
  addrs: () => string[]
  /** Clean leave (peers see "left"), then stop. */
  shutdown: () => Promise<void>
}

/**
 * Assembles and starts one node: locks the home, loads the identity, starts libp2p, the
 * membership service, the connector and the control socket. Each service has start/stop
 * and takes its dependencies as arguments.
 */
export async function createMeshNode (input: MeshNodeConfig): Promise<MeshNode> {
  const config = resolveConfig(input)
  const releaseHome = await lockHome(config.home)
  try {
    return await assemble(config, releaseHome)
  } catch (err) {
    await releaseHome()
    throw err
  }
}

async function assemble (config: ResolvedConfig, releaseHome: () => Promise<void>): Promise<MeshNode> {
  const metrics = new MeshMetrics()
  // Every service gets the node's clock and a logger that names the node, so nodes sharing
  // a process (tests, in-process simulations) neither share time nor mix up their logs.
  const clock = config.clock
  const logger = createMeshLogger(config.nick)
  const privateKey = await loadOrCreatePeerKey(config.home)
  // Test hooks (MESH_TEST_HOOKS=1): a peer blocklist that cuts the mesh on loopback.
  const blocklist = process.env.MESH_TEST_HOOKS === '1' ? new PeerBlocklist(blockedPeersFromEnv(process.env)) : undefined
  // libp2p first: it is what fails on a bad or busy --listen address, and nothing else is
  // running yet to be cleaned up then.
  const libp2p = await createMeshLibp2p({ privateKey, listen: config.listen, mdns: config.mdns, swarmKey: config.swarmKey, connectionGater: blocklist?.gater(), onGossipReceived: countGossipCopy(metrics) })
  const db = new MeshDatabase(config.home)
  const services = new Set<string>()
  const pool = new WorkerPool({ size: config.workers })
  const addrs = (): string[] => libp2p.getMultiaddrs().map(a => a.toString())

  const membership = new MembershipService({ libp2p, metrics }, {
    timing: timingFor(config.heartbeatMs),
    self: {
      nick: config.nick,
      version: MESH_VERSION,
      capacity: () => ({ workers: pool.capacity(), queue: pool.queued }),
      services: () => [...services].sort(),
      roles: () => [],
      addrs: () => addrs().slice(0, 16)
    }
  })
  const connector = new Connector({ libp2p }, {
    bootstrap: config.bootstrap,
    intervalMs: Math.max(500, config.heartbeatMs * 2),
    members: () => membership.table.list()
  })
  const control = new ControlServer({ metrics }, { path: join(config.home, CONTROL_SOCKET_FILE) })
  const rpc = new MeshRpc({
    libp2p,
    metrics,
    selfMember: () => membership.selfMember(),
    members: () => membership.table.list(),
    memberEvents: membership,
    services,
    clock,
    logger
  })
  const chat = new ChatService({ libp2p, metrics, db, membership, privateKey }, { nick: config.nick })
  const jobs = new JobService({ db, control, membership, rpc, pool, metrics, selfId: libp2p.peerId.toString() })

  const node: MeshNode = {
    config,
    libp2p,
    membership,
    rpc,
    chat,
    pool,
    jobs,
    metrics,
    control,
    db,
    services,
    peerId: libp2p.peerId.toString(),
    addrs,
    shutdown: async () => {
      log('shutting down')
      await membership.leave().catch(() => {})
      // Give the goodbye a moment on the wire before the connections close under it.
      await new Promise(resolve => setTimeout(resolve, 50))
      await stopAll()
    }
  }
  // Every step runs even if an earlier one throws: a half-stopped node must still release
  // its home, or the next `mesh start` there would be refused.
  const stopAll = async (): Promise<void> => {
    const steps: Array<[string, () => unknown]> = [
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
  registerCoreMethods(control, node)
  registerRpcControl(control, rpc)
  // Registered before the first heartbeat, so peers learn the services with the node.
  registerTaskServices({ rpc, control, db })
  registerPrimesCountService({ rpc, pool, metrics })
  registerChatMethods(control, chat)
  if (blocklist != null) registerTestHooks(control, { libp2p, blocklist, membership })

  try {
    await rpc.start()
    membership.start()
    connector.start()
    await chat.start()
    jobs.start()
    await control.start()
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
