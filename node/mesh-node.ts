import { join } from 'node:path'
import createDebug from 'debug'
import { CONTROL_SOCKET_FILE } from '../protocols/control/index.ts'
import { resolveConfig, type MeshNodeConfig, type ResolvedConfig } from './config.ts'
import { registerCoreMethods } from './control/core-methods.ts'
import { ControlServer } from './control/control-server.ts'
import { Connector } from './discovery/connector.ts'
import { createMeshLibp2p, type MeshLibp2p } from './libp2p/create-libp2p.ts'
import { MembershipService } from './membership/membership-service.ts'
import { timingFor } from './membership/timing.ts'
import { MeshMetrics } from './metrics/metrics.ts'
import { MeshDatabase } from './store/database.ts'
import { lockHome } from './store/home-lock.ts'
import { loadOrCreatePeerKey } from './store/identity.ts'
import { MESH_VERSION } from './version.ts'

const log = createDebug('mesh:node')

export interface MeshNode {
  readonly config: ResolvedConfig
  readonly libp2p: MeshLibp2p
  readonly membership: MembershipService
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
  const db = new MeshDatabase(config.home)
  const services = new Set<string>()
  const privateKey = await loadOrCreatePeerKey(config.home)
  const libp2p = await createMeshLibp2p({ privateKey, listen: config.listen, mdns: config.mdns, swarmKey: config.swarmKey })
  const addrs = (): string[] => libp2p.getMultiaddrs().map(a => a.toString())

  const membership = new MembershipService({ libp2p, metrics }, {
    timing: timingFor(config.heartbeatMs),
    self: {
      nick: config.nick,
      version: MESH_VERSION,
      capacity: () => ({ workers: { total: config.workers, free: config.workers }, queue: 0 }),
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

  const node: MeshNode = {
    config,
    libp2p,
    membership,
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
      membership.stop()
      connector.stop()
      await control.stop()
      await libp2p.stop()
      db.close()
      await releaseHome()
    }
  }
  registerCoreMethods(control, node)

  membership.start()
  connector.start()
  await control.start()
  log('started %s as %s', config.nick, node.peerId)
  return node
}
