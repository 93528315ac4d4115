import { chmod, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'

export const PEER_KEY_FILE = 'peer.key'

/**
 * Loads the node's libp2p identity from `<home>/peer.key`, creating it on first start, so
 * the peer id survives restarts. The file holds the protobuf-encoded Ed25519 key, mode 0600.
 */
export async function loadOrCreatePeerKey (home: string): Promise<PrivateKey> {
  const path = join(home, PEER_KEY_FILE)
  try {
    const bytes = await readFile(path)
    return privateKeyFromProtobuf(bytes)
  } catch (err: any) {
    if (err?.code !== 'ENOENT') throw new Error(`cannot read the node identity ${path}: ${err.message}`)
  }
  const key = await generateKeyPair('Ed25519')
  // 'wx' fails if another process created the key meanwhile rather than overwriting it.
  await writeFile(path, privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' })
  await chmod(path, 0o600)
  return key
}
