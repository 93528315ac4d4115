import { isIP } from 'node:net'

/**
 * Whether `host` is an IP address on a local network: IPv4 private (RFC 1918), loopback and
 * link-local; IPv6 loopback, unique local (fc00::/7) and link-local (fe80::/10). Heartbeats
 * and load-test requests name hosts that anyone could forge; the mesh acts only on these.
 */
export function isLocalNetworkHost (host: string): boolean {
  const kind = isIP(host)
  if (kind === 4) {
    const [a, b] = host.split('.').map(Number)
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254)
  }
  if (kind === 6) {
    // The first group written out in full, so `fc1::` (0x0fc1) is not taken for fc00::/7.
    const first = host.toLowerCase().split(':')[0].padStart(4, '0')
    return host === '::1' || /^f[cd]/.test(first) || /^fe[89ab]/.test(first)
  }
  return false
}
