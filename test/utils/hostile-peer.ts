import { connect, type Socket } from 'node:net'
import { generateKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { RPC } from '@libp2p/gossipsub/message'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { concat as uint8ArrayConcat } from 'uint8arrays/concat'
import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { canonicalBytes, type UnsignedChatMessage } from '../../protocols/chat/index.ts'
import { encodeMembershipMessage, MEMBERSHIP_TOPIC, MEMBERSHIP_WIRE_VERSION } from '../../protocols/membership/index.ts'

/**
 * What a misbehaving peer sends, built from libp2p's own packages: shared by the tests that
 * attack a node and by `npm run bench:hostile`, which runs the attacks one after another.
 */

/** A valid heartbeat of `id`, with the fields a peer chooses. */
export function heartbeatBytes (id: string, nick: string, seq: number, addrs: string[] = []): Uint8Array {
  return encodeMembershipMessage({
    type: 'heartbeat', v: MEMBERSHIP_WIRE_VERSION, id, nick, incarnation: 1, seq,
    workers: { total: 1, free: 1 }, queue: 0, load: 0, services: [], roles: [], version: '0', addrs
  })
}

/** Gossip's 8-byte sequence number, big-endian. */
function seqno (i: number): Uint8Array {
  const bytes = new Uint8Array(8)
  new DataView(bytes.buffer).setBigUint64(0, BigInt(i + 1))
  return bytes
}

/**
 * Gossip frames (length prefix not included) each carrying the heartbeat of a brand-new
 * identity, signed by that identity as gossip requires: what a peer relaying fresh ids sends.
 * Each heartbeat names `addrs` as its addresses (none by default).
 */
export async function freshIdentityHeartbeatFrames (count: number, nickPrefix = 'fake', addrs: string[] = []): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = []
  for (let i = 0; i < count; i++) {
    const key = await generateKeyPair('Ed25519')
    const id = peerIdFromPrivateKey(key)
    const raw: RPC.Message = { from: id.toMultihash().bytes, data: heartbeatBytes(id.toString(), `${nickPrefix}${i}`, 1, addrs), seqno: seqno(i), topic: MEMBERSHIP_TOPIC }
    raw.signature = await key.sign(uint8ArrayConcat([uint8ArrayFromString('libp2p-pubsub:'), RPC.Message.encode(raw)]))
    raw.key = publicKeyToProtobuf(key.publicKey)
    frames.push(RPC.encode({ subscriptions: [], messages: [raw] }))
  }
  return frames
}

/**
 * Gossip messages on `topic`, each carrying one of `payloads`, all signed by `key` with
 * sequence numbers from 1: what one author's burst looks like inside a single RPC.
 */
export async function signedGossipMessages (key: PrivateKey, topic: string, payloads: Uint8Array[]): Promise<RPC.Message[]> {
  const from = peerIdFromPrivateKey(key).toMultihash().bytes
  const messages: RPC.Message[] = []
  for (const [i, data] of payloads.entries()) {
    const raw: RPC.Message = { from, data, seqno: seqno(i), topic }
    raw.signature = await key.sign(uint8ArrayConcat([uint8ArrayFromString('libp2p-pubsub:'), RPC.Message.encode(raw)]))
    raw.key = publicKeyToProtobuf(key.publicKey)
    messages.push(raw)
  }
  return messages
}

/** A chat wire message signed by `key` over whatever fields the attacker likes. */
export async function forgedChatMessage (key: PrivateKey, fields: Partial<UnsignedChatMessage>): Promise<Uint8Array> {
  const m: UnsignedChatMessage = { v: 1, room: 'lobby', to: null, from: peerIdFromPrivateKey(key).toString(), nick: 'mallory', ts: Date.now(), lc: 0, seq: 1, text: 'hi', ...fields }
  const sig = Buffer.from(await key.sign(canonicalBytes(m))).toString('base64')
  return new TextEncoder().encode(JSON.stringify({ ...m, sig }))
}

/** A varint length prefix announcing `n` bytes. */
export function lengthPrefix (n: number): Uint8Array {
  const bytes: number[] = []
  while (n >= 0x80) { bytes.push((n & 0x7f) | 0x80); n >>>= 7 }
  bytes.push(n)
  return Uint8Array.from(bytes)
}

/**
 * `count` connections to host:port from `localAddress` that never start their handshake,
 * each reopened 50 ms after the node closes it, until `stop()`. `open()` tells how many are
 * open now.
 */
export function holdHalfOpen (host: string, port: number, localAddress: string, count: number): { open: () => number, stop: () => void } {
  let sockets: Socket[] = []
  let holding = true
  const hold = (): void => {
    if (!holding) return
    const socket = connect({ host, port, localAddress })
    socket.on('error', () => {})
    socket.on('close', () => {
      sockets = sockets.filter(s => s !== socket)
      setTimeout(hold, 50)
    })
    sockets.push(socket)
  }
  for (let i = 0; i < count; i++) hold()
  return {
    open: () => sockets.length,
    stop: () => { holding = false; for (const s of sockets) s.destroy() }
  }
}
