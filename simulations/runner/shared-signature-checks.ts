import { createHash } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'

/**
 * Verified signatures remembered at most (about 150 bytes each): minutes of a hundred
 * nodes' gossip. When full the memory starts over, which costs only fresh checks.
 */
const MAX_REMEMBERED = 200_000

let installed = false

/**
 * Makes the nodes of this process share their Ed25519 signature checks (the process tier
 * only). Every gossip message is signed by its origin and checked by each node that gets
 * it: across a real mesh that is one check on each machine, in parallel, but a hundred
 * nodes in one process did all hundred checks of every heartbeat on one thread, a hundred
 * times the work of any one node and the largest single cost of the simulation. A check
 * passed once (same key, same bytes, same signature) is remembered for the others; what
 * failed is checked again every time, so a bad signature is still refused by each node.
 * Nothing changes for the mesh but the CPU this process spends.
 */
export async function shareSignatureChecks (): Promise<void> {
  if (installed) return
  installed = true
  const key = await generateKeyPair('Ed25519')
  const proto = Object.getPrototypeOf(key.publicKey) as { verify: (data: Uint8Array | { subarray: () => Uint8Array }, sig: Uint8Array, options?: unknown) => boolean | Promise<boolean> }
  const verify = proto.verify
  let passed = new Set<string>()
  proto.verify = function (this: { raw: Uint8Array }, data, sig, options) {
    const bytes = data instanceof Uint8Array ? data : data.subarray()
    const id = createHash('sha256').update(this.raw).update(sig).update(bytes).digest('base64')
    if (passed.has(id)) return true
    const remember = (ok: boolean): boolean => {
      if (ok) {
        if (passed.size >= MAX_REMEMBERED) passed = new Set()
        passed.add(id)
      }
      return ok
    }
    const result = verify.call(this, data, sig, options)
    return result instanceof Promise ? result.then(remember) : remember(result)
  }
}
