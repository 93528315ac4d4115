import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * IPv4 ranges a LAN peer can be on: private (RFC 1918), loopback and link-local. A member's
 * heartbeat names its own addresses, and anybody can sign a heartbeat; dialling only these
 * keeps a forged one from turning every node of the mesh into a dialler of some host on the
 * internet.
 */
const LOCAL_V4: Array<[number, number]> = [
  [0x0a000000, 8], // 10.0.0.0/8
  [0xac100000, 12], // 172.16.0.0/12
  [0xc0a80000, 16], // 192.168.0.0/16
  [0x7f000000, 8], // 127.0.0.0/8
  [0xa9fe0000, 16] // 169.254.0.0/16
]

function v4ToInt (text: string): number | undefined {
  const parts = text.split('.').map(Number)
  if (parts.length !== 4 || parts.some(p => !Number.isInteger(p) || p < 0 || p > 255)) return undefined
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3]
}

export function isLocalIp (host: string, family: 'ip4' | 'ip6'): boolean {
  if (family === 'ip4') {
    const n = v4ToInt(host)
    if (n == null) return false
    return LOCAL_V4.some(([net, bits]) => (n >>> (32 - bits)) === (net >>> (32 - bits)))
  }
  const h = host.toLowerCase()
  // Loopback, link-local fe80::/10, unique local fc00::/7.
  return h === '::1' || /^fe[89ab]/.test(h) || /^f[cd]/.test(h)
}

/** Whether `addr` is an IP address on a local network (see LOCAL_V4; IPv6 likewise). */
export function isLocalNetworkAddress (addr: Multiaddr): boolean {
  const ip = addr.getComponents().find(c => c.name === 'ip4' || c.name === 'ip6')
  if (ip?.value == null) return false
  return isLocalIp(ip.value, ip.name as 'ip4' | 'ip6')
}
