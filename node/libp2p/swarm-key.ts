import { readFile } from 'node:fs/promises'

/**
 * Reads a libp2p private-network key (the go-ipfs swarm.key format:
 * `/key/swarm/psk/1.0.0/`, `/base16/`, 64 hex digits) and checks its shape, so a wrong file
 * fails at start with a clear message instead of every connection failing later.
 */
export async function readSwarmKey (path: string): Promise<Uint8Array> {
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (err: any) {
    throw new Error(`cannot read the swarm key ${path}: ${err.code ?? err.message}`)
  }
  const lines = bytes.toString('utf8').split(/\r?\n/).map(l => l.trim()).filter(l => l !== '')
  if (lines.length !== 3 || lines[0] !== '/key/swarm/psk/1.0.0/' || lines[1] !== '/base16/' || !/^[0-9a-fA-F]{64}$/.test(lines[2])) {
    throw new Error(`${path} is not a swarm key (expected /key/swarm/psk/1.0.0/, /base16/ and 64 hex digits)`)
  }
  return new Uint8Array(bytes)
}
