import { PeerBlocklist } from '../../node/libp2p/peer-blocklist.ts'
import { createMeshNode, type MeshNode } from '../../node/mesh-node.ts'
import type { DrivenNode } from './driven-node.ts'

/**
 * Direct peers each in-process node keeps (the rest it reaches through gossip): a full mesh
 * of a hundred nodes is 4,950 connections on one thread, each with its own Yamux, identify
 * and gossip streams. Eight keeps every node several paths while a cut closes half of them.
 */
export const PROCESS_TIER_TARGET_PEERS = 8

export interface InProcessNodeOptions {
  index: number
  home: string
  /** The node's memory address, kept across restarts so peers find it where it was. */
  listen: string
  /** The first node's address with its peer id; none for the first node itself. */
  bootstrap?: string
  heartbeatMs: number
}

/**
 * One real mesh node in the runner's own process, on libp2p's memory transport, with its
 * own home and so its own control socket: the runner drives it exactly as a node in a
 * namespace. Its blocklist (a connection gater, `test.block` on the socket) is how the
 * nemesis cuts it off; it outlives restarts, as a cut outlives the processes behind it.
 */
export class InProcessNode implements DrivenNode {
  readonly opts: InProcessNodeOptions
  readonly blocklist = new PeerBlocklist()
  node?: MeshNode
  peerId = ''
  stopped = false
  stops = 0

  constructor (opts: InProcessNodeOptions) {
    this.opts = opts
  }

  get name (): string {
    return `n${this.opts.index}`
  }

  get running (): boolean {
    return this.node != null
  }

  /** A new node on the same home (same identity, same database): a start or a restart. */
  async start (): Promise<void> {
    if (this.node != null) return
    const { home, listen, bootstrap, heartbeatMs } = this.opts
    this.node = await createMeshNode({
      home,
      nick: this.name,
      listen: [listen],
      bootstrap: bootstrap != null ? [bootstrap] : [],
      mdns: false,
      heartbeatMs,
      // Threads start on the first shard; one per node keeps a hundred nodes within reach.
      workers: 1,
      transport: 'memory',
      targetPeers: PROCESS_TIER_TARGET_PEERS
    }, { blocklist: this.blocklist })
    this.peerId = this.node.peerId
  }

  /** Stops without a leave: the others see it fall silent, as after a SIGKILL. */
  async kill (): Promise<void> {
    const node = this.node
    this.node = undefined
    await node?.stop()
  }

  /** A clean leave (peers see "left"). */
  async leave (): Promise<void> {
    const node = this.node
    this.node = undefined
    await node?.shutdown()
  }
}
