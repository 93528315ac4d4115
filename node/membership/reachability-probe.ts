import type { PeerId } from '@libp2p/interface'
import createDebug from 'debug'
import type { MeshLibp2p } from '../libp2p/create-libp2p.ts'
import type { MembershipTiming } from './timing.ts'

export interface ReachabilityProbeInit {
  timing: MembershipTiming
  shouldProbe: (peerId: string) => boolean
  /**
   * Every ping failed. `refused`: every dial was refused (nothing listens on its port any
   * more, the process is gone); otherwise the pings timed out or failed in some other way,
   * which an overloaded but living process also causes.
   */
  onUnreachable: (peerId: string, refused: boolean) => void
}

/**
 * Wait after a disconnect before probing: a clean leave's goodbye message and the closing of
 * the connection race each other, and the goodbye should win.
 */
const PROBE_GRACE_MS = 150
const PROBE_ATTEMPTS = 2

/**
 * The fast half of two-speed failure detection: when the last connection to a member closes,
 * a direct ping decides whether it crashed (dial refused: dead within milliseconds on a LAN),
 * the connection merely dropped (ping succeeds and reconnects), or it is unresponsive (ping
 * times out: only a suspicion, which it can refute, since a starved process and a busy
 * machine look exactly like that). Hangs, where no connection closes, are left to the
 * heartbeat timeouts.
 */
export class ReachabilityProbe {
  private readonly libp2p: MeshLibp2p
  private readonly init: ReachabilityProbeInit
  private readonly inFlight = new Set<string>()
  private readonly controller = new AbortController()
  private readonly log = createDebug('mesh:membership:probe')

  constructor (components: { libp2p: MeshLibp2p }, init: ReachabilityProbeInit) {
    this.libp2p = components.libp2p
    this.init = init
  }

  start (): void {
    this.libp2p.addEventListener('peer:disconnect', this.onDisconnect)
  }

  stop (): void {
    this.libp2p.removeEventListener('peer:disconnect', this.onDisconnect)
    this.controller.abort()
  }

  private readonly onDisconnect = (event: CustomEvent<PeerId>): void => {
    const peerId = event.detail
    const id = peerId.toString()
    if (this.inFlight.has(id) || !this.init.shouldProbe(id)) return
    this.inFlight.add(id)
    void this.probe(peerId).finally(() => this.inFlight.delete(id))
  }

  private async probe (peerId: PeerId): Promise<void> {
    const id = peerId.toString()
    await sleep(PROBE_GRACE_MS, this.controller.signal)
    // Reconnected meanwhile (both sides dialled at once, one connection was pruned): fine.
    if (this.libp2p.getConnections(peerId).length > 0) return
    let refused = true
    for (let attempt = 1; attempt <= PROBE_ATTEMPTS; attempt++) {
      if (this.controller.signal.aborted || !this.init.shouldProbe(id)) return
      try {
        const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(this.init.timing.heartbeatMs)])
        const rtt = await this.libp2p.services.ping.ping(peerId, { signal })
        this.log('%s reachable again after disconnect (%d ms)', id, rtt)
        return
      } catch (err: any) {
        refused &&= isRefused(err)
        this.log('ping %s attempt %d failed: %s', id, attempt, err?.message)
      }
    }
    if (!this.controller.signal.aborted && this.init.shouldProbe(id)) this.init.onUnreachable(id, refused)
  }
}

/**
 * True when the error says every address refused the connection (ECONNREFUSED, possibly
 * wrapped or aggregated over several addresses): the host is up and nothing listens there.
 */
export function isRefused (err: any, depth = 0): boolean {
  if (err == null || depth > 4) return false
  if (err.code === 'ECONNREFUSED') return true
  if (Array.isArray(err.errors) && err.errors.length > 0) return err.errors.every((e: unknown) => isRefused(e, depth + 1))
  return isRefused(err.cause, depth + 1)
}

async function sleep (ms: number, signal: AbortSignal): Promise<void> {
  await new Promise<void>(resolve => {
    // The signal lives as long as the node: a listener left on it per probe would pile up.
    const onAbort = (): void => { clearTimeout(timer); resolve() }
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve() }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
