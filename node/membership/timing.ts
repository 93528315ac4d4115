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

export function timingFor (heartbeatMs: number = DEFAULT_HEARTBEAT_MS): MembershipTiming {
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
    forgetAfterMs: 60 * 60 * 1000
  }
}
