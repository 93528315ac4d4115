import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import type { PrivateKey, PublicKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'

/** Senders whose keys are kept: a room has few, and a swarm of ids must not grow memory. */
const DEFAULT_MAX_KEYS = 1024

/**
 * Parsed keys, made once per key: @libp2p/crypto builds a key object from JWK on every sign
 * and verify, which costs more than the Ed25519 operation itself, and parsing a sender's id
 * for every message adds up. One per node, so nodes sharing a process share nothing; the
 * least recently used sender goes first when it is full.
 */
export class ChatKeyCache {
  private readonly maxKeys: number
  /** Peer id -> its public key, or undefined when the id embeds none (never verifies). */
  private readonly publicKeys = new Map<string, PublicKey | undefined>()
  private readonly publicKeyObjects = new Map<string, KeyObject>()
  /** Our own signing keys; weak, so a key dropped by its owner is dropped here too. */
  private readonly privateKeyObjects = new WeakMap<PrivateKey, KeyObject | undefined>()

  constructor (init: { maxKeys?: number } = {}) {
    const maxKeys = init.maxKeys ?? DEFAULT_MAX_KEYS
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError('maxKeys must be a whole number from 1')
    this.maxKeys = maxKeys
  }

  /** Senders whose keys are held now. */
  get size (): number {
    return this.publicKeys.size
  }

  /** The public key a peer id embeds (Ed25519 ids do), or undefined. */
  publicKey (peer: string): PublicKey | undefined {
    if (this.publicKeys.has(peer)) return touch(this.publicKeys, peer, this.publicKeys.get(peer))
    let key: PublicKey | undefined
    try {
      key = peerIdFromString(peer).publicKey
    } catch {
      key = undefined
    }
    return remember(this.publicKeys, peer, key, this.maxKeys)
  }

  /** A node:crypto object for an Ed25519 public key, to verify with. */
  publicKeyObject (peer: string, key: PublicKey): KeyObject {
    const known = this.publicKeyObjects.get(peer)
    if (known != null) return touch(this.publicKeyObjects, peer, known)
    const object = createPublicKey({ format: 'jwk', key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(key.raw).toString('base64url') } })
    return remember(this.publicKeyObjects, peer, object, this.maxKeys)
  }

  /** A node:crypto object for an Ed25519 private key; undefined for other key types. */
  privateKeyObject (key: PrivateKey): KeyObject | undefined {
    if (this.privateKeyObjects.has(key)) return this.privateKeyObjects.get(key)
    let object: KeyObject | undefined
    if (key.type === 'Ed25519' && key.raw.byteLength === 64) {
      const d = Buffer.from(key.raw.subarray(0, 32)).toString('base64url')
      const x = Buffer.from(key.raw.subarray(32)).toString('base64url')
      object = createPrivateKey({ format: 'jwk', key: { kty: 'OKP', crv: 'Ed25519', d, x } })
    }
    this.privateKeyObjects.set(key, object)
    return object
  }
}

/** Marks `key` as used last (a Map iterates in insertion order). */
function touch<V> (map: Map<string, V>, key: string, value: V): V {
  map.delete(key)
  map.set(key, value)
  return value
}

function remember<V> (map: Map<string, V>, key: string, value: V, max: number): V {
  if (map.size >= max) map.delete(map.keys().next().value as string)
  map.set(key, value)
  return value
}
