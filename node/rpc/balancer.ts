/** What the balancer knows of one peer that offers the method. */
export interface Candidate {
  id: string
  /** Advertised (busy slots + queue) / total slots, from the latest heartbeat. */
  load: number
  workers: { total: number, free: number }
  /** Calls this node has in flight to it right now: fresher than the heartbeat. */
  inflight: number
  /** This node itself: a local call costs no network round trip. */
  local: boolean
}

/**
 * The load the balancer compares: the advertised load plus this node's own calls in flight
 * there, per worker slot. The heartbeat is up to a second old; counting our own outstanding
 * calls spreads a burst from one caller at once instead of piling it on the peer that
 * looked idle a second ago.
 */
export function effectiveLoad (c: Candidate): number {
  return c.load + c.inflight / Math.max(1, c.workers.total)
}

/**
 * Power of two choices: draw two distinct candidates at random and keep the less loaded
 * (Mitzenmacher: the maximum load drops exponentially against one random choice, without
 * the herd behaviour of always picking the global minimum from stale data). On a tie the
 * local node wins (no network hop), then the one with more free workers, then the first
 * drawn. `random` is injected so tests are deterministic.
 */
export function pickPeer (candidates: readonly Candidate[], random: () => number): Candidate | undefined {
  if (candidates.length <= 1) return candidates[0]
  const i = Math.floor(random() * candidates.length) % candidates.length
  let j = Math.floor(random() * (candidates.length - 1)) % (candidates.length - 1)
  if (j >= i) j++
  return better(candidates[i], candidates[j])
}

function better (a: Candidate, b: Candidate): Candidate {
  const la = effectiveLoad(a)
  const lb = effectiveLoad(b)
  if (Math.abs(la - lb) > 1e-9) return la < lb ? a : b
  if (a.local !== b.local) return a.local ? a : b
  if (a.workers.free !== b.workers.free) return a.workers.free > b.workers.free ? a : b
  return a
}

export interface MemberLike {
  id: string
  state: 'alive' | 'suspect' | 'dead' | 'left'
  load: number
  workers: { total: number, free: number }
  services: readonly string[]
}

/**
 * The members that may take a call to `key` (`service.method`): alive (not suspect, dead
 * or left), advertising the method, and not excluded. Suspects are skipped: a call to a
 * peer that misses heartbeats likely times out, and there is usually another.
 */
export function candidatesFor (key: string, members: readonly MemberLike[], exclude: ReadonlySet<string>,
  inflight: (id: string) => number, selfId: string): Candidate[] {
  const out: Candidate[] = []
  for (const m of members) {
    if (m.state !== 'alive' || exclude.has(m.id) || !m.services.includes(key)) continue
    out.push({ id: m.id, load: m.load, workers: m.workers, inflight: inflight(m.id), local: m.id === selfId })
  }
  return out
}
