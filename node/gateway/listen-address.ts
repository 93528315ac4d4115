/** Where a gateway listens: `--gateway 7000` (loopback) or `--gateway 0.0.0.0:7000` (the LAN). */
export interface ListenAddress {
  host: string
  port: number
}

export const DEFAULT_GATEWAY_HOST = '127.0.0.1'

/** `[HOST:]PORT` (an IPv6 host in brackets: `[::1]:7000`); null when the text is not one. */
export function parseListenAddress (text: string): ListenAddress | null {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(text.trim())
  if (m == null) return null
  const port = Number(m[2])
  if (port > 65535) return null
  const host = m[1] == null ? DEFAULT_GATEWAY_HOST : m[1].replace(/^\[|\]$/g, '')
  return { host, port }
}

/** The address as a role string in heartbeats (`gateway=127.0.0.1:7000`), or the bare role when it would not fit. */
export function roleOf (role: string, address: ListenAddress, maxLength: number): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host
  const full = `${role}=${host}:${address.port}`
  return full.length <= maxLength ? full : role
}
