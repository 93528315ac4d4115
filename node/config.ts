import { randomUUID } from 'node:crypto'
import { availableParallelism, hostname } from 'node:os'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { MAX_NICK_LENGTH, nickProblem } from '../protocols/names.ts'
import { parseListenAddress, type ListenAddress } from './gateway/listen-address.ts'
import { DEFAULT_HEARTBEAT_MS, DEFAULT_REAP_AFTER_MS } from './membership/timing.ts'
import { systemClock, type Clock } from './time/clock.ts'

export class InvalidConfigError extends Error {
  override name = 'InvalidConfigError'
}

export interface MeshNodeConfig {
  /** The node's home: identity, database, control socket. */
  home: string
  nick?: string
  /** Multiaddrs to listen on; default all interfaces, a random TCP port. */
  listen?: string[]
  bootstrap?: string[]
  mdns?: boolean
  heartbeatMs?: number
  /** Worker threads for compute; default one per core. */
  workers?: number
  /** Contents of a libp2p swarm key file: a private mesh. */
  swarmKey?: Uint8Array
  /** Time and timers for every service; a fake clock runs a whole node in simulated time. */
  clock?: Clock
  /** `[HOST:]PORT` of the gateway's line protocol (host 127.0.0.1 unless given); none by default. */
  gateway?: string
  /** `[HOST:]PORT` of the HTTP API and /metrics; none by default. */
  http?: string
  /** Connections each of the gateway's servers keeps open at most (default 1024). */
  gatewayMaxConnections?: number
  /** A gateway client silent this long (ms) is disconnected (default 5 minutes). */
  gatewayIdleTimeoutMs?: number
  /**
   * Run shares of other members' load tests (`mesh loadtest --spread`). Off by default: it
   * lets any member point this node's connections at hosts on its local network.
   */
  allowLoadTest?: boolean
  /** Dead and left members are forgotten this long (ms) after they went (default 10 minutes). */
  reapAfterMs?: number
  /**
   * A node that joins for one job and leaves (the temporary node of `mesh primes count`):
   * advertised as the `transient` role, so chats announce neither its arrival nor its leave.
   */
  transient?: boolean
  /**
   * The data transport: TCP (the default), or libp2p's in-memory transport, which joins only
   * nodes of the same process (the in-process simulations). Not a `mesh start` option.
   */
  transport?: MeshTransport
  /**
   * Direct peers to keep (a partial mesh; gossip reaches the rest) instead of a connection
   * to every member. Not a `mesh start` option: for a hundred nodes in one process.
   */
  targetPeers?: number
}

export type MeshTransport = 'tcp' | 'memory'

export interface ResolvedConfig {
  home: string
  nick: string
  listen: string[]
  bootstrap: Multiaddr[]
  mdns: boolean
  heartbeatMs: number
  workers: number
  swarmKey?: Uint8Array
  clock: Clock
  gateway?: ListenAddress
  http?: ListenAddress
  gatewayMaxConnections?: number
  gatewayIdleTimeoutMs?: number
  allowLoadTest: boolean
  reapAfterMs: number
  transient: boolean
  transport: MeshTransport
  targetPeers?: number
}

/** Listen on every interface, any free port: what a LAN node wants by default. */
export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/0']
export const MIN_HEARTBEAT_MS = 50
export const MAX_HEARTBEAT_MS = 60_000
export const MAX_WORKERS = 256
export const MAX_TARGET_PEERS = 256
/** Below a minute a member could be forgotten while its last heartbeats still circulate. */
export const MIN_REAP_AFTER_MS = 60_000
export const MAX_REAP_AFTER_MS = 7 * 24 * 3600_000

/** Checks every option eagerly, one check per line, naming the option in the message. */
export function resolveConfig (config: MeshNodeConfig): ResolvedConfig {
  const nick = config.nick ?? defaultNick()
  const nickError = nickProblem(nick)
  if (nickError != null) throw new InvalidConfigError(`--name ${nickError}`)
  const heartbeatMs = config.heartbeatMs ?? DEFAULT_HEARTBEAT_MS
  if (!Number.isInteger(heartbeatMs) || heartbeatMs < MIN_HEARTBEAT_MS || heartbeatMs > MAX_HEARTBEAT_MS) {
    throw new InvalidConfigError(`--heartbeat must be a whole number of ms from ${MIN_HEARTBEAT_MS} to ${MAX_HEARTBEAT_MS}`)
  }
  const workers = config.workers ?? availableParallelism()
  if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) throw new InvalidConfigError(`--workers must be from 1 to ${MAX_WORKERS}`)
  const transport = config.transport ?? 'tcp'
  if (transport !== 'tcp' && transport !== 'memory') throw new InvalidConfigError(`transport must be tcp or memory, got "${String(transport).slice(0, 20)}"`)
  const listen = config.listen != null && config.listen.length > 0 ? config.listen : transport === 'memory' ? [`/memory/${randomUUID()}`] : DEFAULT_LISTEN
  for (const a of listen) parseAddr(a, '--listen', transport)
  const bootstrap = (config.bootstrap ?? []).map(a => parseAddr(a, '--bootstrap', transport))
  const targetPeers = config.targetPeers
  if (targetPeers != null && (!Number.isInteger(targetPeers) || targetPeers < 1 || targetPeers > MAX_TARGET_PEERS)) throw new InvalidConfigError(`targetPeers must be a whole number from 1 to ${MAX_TARGET_PEERS}`)
  const reapAfterMs = config.reapAfterMs ?? DEFAULT_REAP_AFTER_MS
  if (!Number.isInteger(reapAfterMs) || reapAfterMs < MIN_REAP_AFTER_MS || reapAfterMs > MAX_REAP_AFTER_MS) {
    throw new InvalidConfigError(`--reap-after must be a whole number of seconds from ${MIN_REAP_AFTER_MS / 1000} to ${MAX_REAP_AFTER_MS / 1000}`)
  }
  return {
    home: config.home,
    nick,
    listen,
    bootstrap,
    mdns: config.mdns ?? true,
    heartbeatMs,
    workers,
    swarmKey: config.swarmKey,
    clock: config.clock ?? systemClock,
    gateway: listenAddress(config.gateway, '--gateway'),
    http: listenAddress(config.http, '--http'),
    gatewayMaxConnections: config.gatewayMaxConnections,
    gatewayIdleTimeoutMs: config.gatewayIdleTimeoutMs,
    allowLoadTest: config.allowLoadTest ?? false,
    reapAfterMs,
    transient: config.transient ?? false,
    transport,
    targetPeers
  }
}

function listenAddress (text: string | undefined, option: string): ListenAddress | undefined {
  if (text == null) return undefined
  const address = parseListenAddress(text)
  if (address == null) throw new InvalidConfigError(`${option} takes [HOST:]PORT, such as 7000 or 0.0.0.0:7000, got "${text.slice(0, 60)}"`)
  return address
}

function parseAddr (text: string, option: string, transport: MeshTransport): Multiaddr {
  try {
    const addr = multiaddr(text)
    if (!addr.getComponents().some(c => c.name === transport)) throw new Error(`no /${transport}/ part`)
    return addr
  } catch (err: any) {
    const example = transport === 'memory' ? '/memory/node-a' : '/ip4/127.0.0.1/tcp/4001'
    throw new InvalidConfigError(`${option} ${text} is not a ${transport === 'memory' ? 'memory' : 'TCP'} multiaddr such as ${example} (${err.message})`)
  }
}

function defaultNick (): string {
  const name = hostname().split('.')[0].replace(/[^\w.-]/g, '').slice(0, MAX_NICK_LENGTH)
  return name === '' ? 'node' : name
}
