import type { PeerId } from '@libp2p/interface'
import type { MeshLibp2p } from '../libp2p/create-libp2p.ts'
import { defaultLogger, type Log, type MeshLogger } from '../logging/logger.ts'
import { systemClock, type Clock } from '../time/clock.ts'
import type { MembershipTiming } from './timing.ts'

/** The slice of libp2p the probe uses: disconnect events, open connections, ping. */
export type ProbeLibp2p = Pick<MeshLibp2p, 'addEventListener' | 'removeEventListener' | 'getConnections'> & {
  services: { ping: Pick<MeshLibp2p['services']['ping'], 'ping'> }
}

export interface ReachabilityProbeComponents {
  libp2p: ProbeLibp2p
  /** The grace before a probe and the ping timeout. Default systemClock. */
  clock?: Clock
  logger?: MeshLogger
}

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
  private readonly libp2p: ProbeLibp2p
  private readonly clock: Clock
  private readonly init: ReachabilityProbeInit
  private readonly inFlight = new Set<string>()
  private readonly log: Log
  /** Made by each start, aborted by stop: probes of the previous run end there. */
  private controller?: AbortController

  constructor (components: ReachabilityProbeComponents, init: ReachabilityProbeInit) {
    this.libp2p = components.libp2p
    this.clock = components.clock ?? systemClock
    this.log = (components.logger ?? defaultLogger).forComponent('membership:probe')
    this.init = init
  }

  start (): void {
    if (this.controller != null) return
    this.controller = new AbortController()
    this.libp2p.addEventListener('peer:disconnect', this.onDisconnect)
  }

  stop (): void {
    if (this.controller == null) return
    this.libp2p.removeEventListener('peer:disconnect', this.onDisconnect)
    this.controller.abort()
    this.controller = undefined
  }

  private readonly onDisconnect = (event: CustomEvent<PeerId>): void => {
    const peerId = event.detail
    const id = peerId.toString()
    if (this.controller == null || this.inFlight.has(id) || !this.init.shouldProbe(id)) return
    this.inFlight.add(id)
    void this.probe(peerId, this.controller.signal).finally(() => this.inFlight.delete(id))
  }

  private async probe (peerId: PeerId, stopped: AbortSignal): Promise<void> {
    const id = peerId.toString()
    try {
      await this.clock.sleep(PROBE_GRACE_MS, stopped)
    } catch {
      return // stopped during the grace
    }
    // Reconnected meanwhile (both sides dialled at once, one connection was pruned): fine.
    if (this.libp2p.getConnections(peerId).length > 0) return
    let refused = true
    for (let attempt = 1; attempt <= PROBE_ATTEMPTS; attempt++) {
      if (stopped.aborted || !this.init.shouldProbe(id)) return
      // The timeout is a membership timing (one heartbeat interval), so it runs on the
      // node's clock: under a fake clock a ping to a hung peer times out when simulated
      // time passes, not after a real second.
      const timeout = new AbortController()
      const timer = this.clock.setTimeout(() => { timeout.abort(new PingTimeoutError(`no pong within ${this.init.timing.heartbeatMs} ms`)) }, this.init.timing.heartbeatMs)
      try {
        const rtt = await this.libp2p.services.ping.ping(peerId, { signal: AbortSignal.any([stopped, timeout.signal]) })
        this.log('%s reachable again after disconnect (%d ms)', id, rtt)
        return
      } catch (err: any) {
        refused &&= isRefused(err)
        this.log('ping %s attempt %d failed: %s', id, attempt, err?.message)
      } finally {
        timer.clear()
      }
    }
    if (!stopped.aborted && this.init.shouldProbe(id)) this.init.onUnreachable(id, refused)
  }
}

/** A probe's ping got no answer within one heartbeat interval. */
export class PingTimeoutError extends Error {
  override name = 'PingTimeoutError'
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
