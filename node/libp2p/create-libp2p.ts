import { createHash } from 'node:crypto'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { identify, type Identify } from '@libp2p/identify'
import type { ConnectionGater, Libp2p, PrivateKey } from '@libp2p/interface'
import { mdns } from '@libp2p/mdns'
import { plaintext } from '@libp2p/plaintext'
import { memory } from '@libp2p/memory'
import { ping, type Ping } from '@libp2p/ping'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { PendingPerHost } from './pending-per-host.ts'
import { sendWindowUpdatesAtHalfWindow } from './yamux-window-updates.ts'

export type MeshServices = {
  identify: Identify
  ping: Ping
  pubsub: GossipSub
}

export type MeshLibp2p = Libp2p<MeshServices>

export interface Libp2pConfig {
  privateKey: PrivateKey
  listen: string[]
  mdns: boolean
  swarmKey?: Uint8Array
  /** Refuses connections to some peers: how tests cut a mesh in two on loopback. */
  connectionGater?: ConnectionGater
  /** Called for every copy of a gossip message received, duplicates included: the wire cost. */
  onGossipReceived?: (topic: string) => void
  /** Caps the handshakes one host may hold open; a default one when not given. */
  pendingPerHost?: PendingPerHost
  /** TCP by default; memory joins only nodes of this process (in-process simulations), in plaintext. */
  transport?: 'tcp' | 'memory'
}

/**
 * How often mDNS asks who is there: how soon a node notices a link that came up after it
 * started (peers already up answer its first query at once).
 */
const MDNS_INTERVAL_MS = 5000

/**
 * Gossipsub's mesh degrees, sized for a LAN mesh where every node is connected to every
 * other (membership dials each live member). Flood publishing (the default) already hands
 * each message to every connected subscriber in one hop; the mesh only adds redundant
 * copies for a link that is missing, and each copy costs every receiver a frame to decrypt,
 * decode and hash (the defaults, D=6, made each message arrive about 6 times per node in an
 * 8-node mesh). Three mesh peers still give each message three paths besides the direct
 * one; what gossip misses anyway, IHAVE gossip and anti-entropy bring.
 */
export const SMALL_MESH_DEGREES = { D: 2, Dlo: 2, Dhi: 3, Dout: 1, Dscore: 1, Dlazy: 3 }

/**
 * The mesh degrees a node uses. With the test hooks on, `MESH_GOSSIP_DEGREES=default` gives
 * gossipsub's own (D=6), so `bench:chat --gossip-degrees default` can compare both on one
 * machine: fewer copies cost less CPU, more copies race a late one (see docs/chat-design.md).
 */
export function gossipDegrees (env: NodeJS.ProcessEnv = process.env): Partial<typeof SMALL_MESH_DEGREES> {
  return env.MESH_TEST_HOOKS === '1' && env.MESH_GOSSIP_DEGREES === 'default' ? {} : SMALL_MESH_DEGREES
}

/**
 * Assembles libp2p 3: TCP and Noise (or the in-memory transport in plaintext), Yamux, identify, ping, gossipsub, mDNS when asked and a
 * pre-shared-key private network when a swarm key is given.
 */
export async function createMeshLibp2p (config: Libp2pConfig): Promise<MeshLibp2p> {
  // One WindowUpdate frame per half window instead of one per data frame received.
  sendWindowUpdatesAtHalfWindow()
  try {
    return await createLibp2p({
      privateKey: config.privateKey,
      addresses: { listen: config.listen },
      transports: [config.transport === 'memory' ? memory() : tcp()],
      // Nothing on the memory transport leaves this process (it joins nodes of one process:
      // the in-process simulations), so there is no wire to protect, and Noise's handshakes
      // and per-frame encryption were most of the CPU of a hundred nodes on one thread.
      connectionEncrypters: [config.transport === 'memory' ? plaintext() : noise()],
      streamMuxers: [yamux()],
      connectionProtector: config.swarmKey != null ? preSharedKey({ psk: config.swarmKey }) : undefined,
      connectionGater: (config.pendingPerHost ?? new PendingPerHost()).gater(config.connectionGater),
      peerDiscovery: config.mdns ? [mdns({ interval: MDNS_INTERVAL_MS })] : [],
      // Liveness is the membership layer's job (heartbeats, suspicion, a probe on close).
      // libp2p's own monitor would abort a healthy connection whose ping is merely late on a
      // CPU-starved machine, which then looks like a crash to every peer.
      connectionMonitor: { abortConnectionOnPingFailure: false },
      connectionManager: {
        // A LAN mesh is small; the membership layer dials every live member it learns of.
        maxConnections: 256,
        dialTimeout: 5000,
        // A LAN handshake takes milliseconds; a starved machine, a second or two. Ten seconds
        // (the default) let connections that never finish hold their slot that long.
        inboundUpgradeTimeout: 5000,
        // More room in total, while PendingPerHost keeps one address to its share of it.
        maxIncomingPendingConnections: 64
      },
      services: {
        identify: identify(),
        ping: ping(),
        pubsub: gossipsub({
          // A publish with nobody subscribed throws instead of silently dropping the message;
          // callers decide whether that matters (a heartbeat: no; a chat message: retry).
          allowPublishToZeroTopicPeers: false,
          emitSelf: false,
          ...gossipDegrees(),
          // The default 1 MiB per message is far above anything mesh sends on a topic; each
          // topic's own validator enforces its tighter limit before decoding.
          maxInboundDataLength: 256 * 1024,
          // A peer's next RPC is read once its last one is handled (node/libp2p/gossip-budget.ts
          // slices that work): a flooding peer waits in its own stream's flow-control window
          // instead of this node decoding its whole burst into memory at once.
          awaitRpcHandler: true,
          scoreParams: {
            // Gossipsub penalises more than 10 peers behind one IP address and remembers the
            // penalty for an hour after they leave. On a LAN mesh many nodes share a host (a
            // demo, a simulation, a student's terminals, each `mesh primes count` without a
            // node), so after a dozen of them every new node from that host was ignored and
            // long-lived ones were declared dead. Sybil resistance by IP means nothing on
            // loopback or behind one NAT; membership admission is what bounds members.
            IPColocationFactorWeight: 0
          },
          // Without it every duplicate copy is signature-checked before the seen-cache drops
          // it. The hash covers the signature too, so a forged copy cannot shadow the real one.
          fastMsgIdFn: message => {
            config.onGossipReceived?.(message.topic)
            return fastMessageId(message)
          }
        })
      }
    })
  } catch (err: any) {
    // libp2p's message spans many lines and suggests config options a user cannot set here.
    if (err?.name === 'UnsupportedListenAddressesError') {
      throw new Error(`cannot listen on ${config.listen.join(', ')}: the address is in use or not on this machine`)
    }
    throw err
  }
}

/** A cheap id of a received gossip message as it is on the wire (all of it, signature included). */
function fastMessageId (message: { from?: Uint8Array, seqno?: Uint8Array, data?: Uint8Array, signature?: Uint8Array, topic: string }): string {
  const hash = createHash('sha1')
  for (const part of [message.from, message.seqno, message.data, message.signature]) {
    hash.update(String(part?.byteLength ?? -1) + ':')
    if (part != null) hash.update(part)
  }
  return hash.update(message.topic).digest('base64')
}
