/**
 * Failure-detection timing, derived from the heartbeat interval so that `--heartbeat`
 * scales every timeout with it.
 */
export interface MembershipTiming {
  heartbeatMs: number
  /** No fresh heartbeat for this long: suspect. */
  suspectAfterMs: number
  /** Suspect for this long without a refutation: dead. */
  suspicionTimeoutMs: number
  /** How often the table is checked for expired timers. */
  tickMs: number
  /** Dead and left members stay listed this long, then are forgotten. */
  forgetAfterMs: number
}

/**
 * The default heartbeat: 1 s. A stopped process is then dead within about 4.5 s, and each
 * node costs its peers one small gossip message a second: cheap for a LAN mesh of tens of
 * nodes, and of the order of Serf's LAN settings.
 */
export const DEFAULT_HEARTBEAT_MS = 1000

/**
 * How long dead and left members stay in the table. Serf keeps failed members 24 hours
 * (reconnect_timeout) because a datacenter node that fails is expected back; a LAN mesh of
 * laptops and terminals sees members come and go all day, and a row that stays for hours
 * only shows stale load. Ten minutes keeps a departure visible long enough to notice and
 * explain, and is far beyond the life of the departed member's last gossip (the gossip
 * seen-cache holds message ids two minutes), so a late heartbeat cannot bring it back.
 * A member that returns is a new incarnation and is re-added at once whatever this is.
 */
export const DEFAULT_REAP_AFTER_MS = 10 * 60 * 1000

export function timingFor (heartbeatMs: number = DEFAULT_HEARTBEAT_MS, reapAfterMs: number = DEFAULT_REAP_AFTER_MS): MembershipTiming {
  return {
    heartbeatMs,
    // 2.5 intervals: one heartbeat may be lost or late (jitter is ±10%) without a suspicion.
    suspectAfterMs: Math.round(heartbeatMs * 2.5),
    // 2 more intervals for the suspect to hear the claim and refute with a new incarnation.
    // Together: a stopped process is dead 4.5 intervals after its last heartbeat, so 3.4-4.5
    // intervals after it stopped.
    suspicionTimeoutMs: heartbeatMs * 2,
    // A tenth of an interval keeps detection latency within ~10% of the timeouts.
    tickMs: Math.max(10, Math.round(heartbeatMs / 10)),
    forgetAfterMs: reapAfterMs
  }
}
