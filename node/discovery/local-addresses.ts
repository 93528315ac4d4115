import type { Multiaddr } from '@multiformats/multiaddr'
import { isLocalNetworkHost } from '../../protocols/local-network.ts'

/**
 * Whether `addr` is an IP address on a local network. A member's heartbeat names its own
 * addresses, and anybody can sign a heartbeat; dialling only these keeps a forged one from
 * turning every node of the mesh into a dialler of some host on the internet.
 */
export function isLocalNetworkAddress (addr: Multiaddr): boolean {
  // A memory address reaches only nodes of this same process (in-process simulations).
  if (addr.getComponents().some(c => c.name === 'memory')) return true
  const ip = addr.getComponents().find(c => c.name === 'ip4' || c.name === 'ip6')
  return ip?.value != null && isLocalNetworkHost(ip.value)
}
