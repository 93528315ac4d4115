import { bisect, bridgeGrudge, completeGrudge, isolateOne, majoritiesRingGrudge } from './grudge.ts'
import type { Fault, FaultEvent, JobSpec, SimPlan } from './plan.ts'
import { SeededRandom } from './random.ts'

export interface PlanOptions {
  nodes: number
  seed: number
  /** Fault windows, one after another. */
  cycles?: number
  heartbeatMs?: number
  /**
   * A workload for many nodes sharing one process (the process tier): prime counts of a
   * second's work instead of minutes, and a chat rate for the whole mesh that does not grow
   * past about eight messages a heartbeat.
   */
  light?: boolean
}

export class UnknownScenarioError extends Error {
  override name = 'UnknownScenarioError'
}

/**
 * The default heartbeat of the nodes. A cut must outlast detection (4.5 heartbeats to dead)
 * and the membership checker's grace on top of it (3 more) before a pair not seen dead counts
 * as missed, so each window lasts 8 or 9 heartbeats; the gap after it lets the mesh converge
 * before the next (within a heartbeat or two: 0.6 s at p50 with 8 nodes at 1 s, under half a
 * dilated heartbeat with 100), with room for a busy machine. Longer windows and gaps (8-12
 * and 8 heartbeats) showed nothing more and made 20 cycles of 100 nodes last 70 minutes.
 */
const DEFAULT_HEARTBEAT_MS = 1000
/**
 * Nodes sharing one process at the default heartbeat; above it a light workload's heartbeat
 * (and with it every timeout, window and deadline of the plan) grows as the nodes to the
 * power 1.5: time dilation. Each heartbeat goes to every member, so the mesh's gossip per
 * second grows with the square of the nodes at a fixed heartbeat, and one thread carries a
 * mesh's worth of it only if a simulated second lasts longer: 32 nodes beat every 2 s, 64
 * every 5.7 s, 100 every 11.2 s (the work per second then grows only as the square root of
 * the nodes). The mesh is judged in heartbeats (detection 4.5 of them, convergence,
 * deadlines), so its verdicts still hold.
 */
const NODES_AT_DEFAULT_HEARTBEAT = 20
const DILATION_EXPONENT = 1.5
const WINDOW_HEARTBEATS: [number, number] = [8, 9]
const GAP_HEARTBEATS = 4
const DEFAULT_CYCLES = 2
/**
 * Counts known independently of the mesh: pi(10^10) and pi(10^10) - pi(5·10^9)
 * (OEIS A006880; pi(5·10^9) = 234954223). Big enough that a job takes seconds, so a fault
 * opened while it runs cuts shards in flight.
 */
const KNOWN_COUNTS: ReadonlyArray<{ from: number, to: number, expected: number }> = [
  { from: 1, to: 10_000_000_000, expected: 455_052_511 },
  { from: 5_000_000_001, to: 10_000_000_000, expected: 455_052_511 - 234_954_223 }
]

/** pi(10^7) and pi(10^7) - pi(5·10^6) (OEIS A006880; pi(5·10^6) = 348513). */
const LIGHT_COUNTS: ReadonlyArray<{ from: number, to: number, expected: number }> = [
  { from: 1, to: 10_000_000, expected: 664_579 },
  { from: 5_000_001, to: 10_000_000, expected: 664_579 - 348_513 }
]
/** In a light workload, each node's chat interval grows so the mesh sends about this many messages a heartbeat. */
const LIGHT_CHATS_PER_HEARTBEAT = 8

/** What one cycle does: the faults that open the window and the faults that close it. */
type WindowFaults = (rng: SeededRandom, nodes: number[]) => { open: Fault[], close: Fault[] }

const windows: Record<string, { describe: string, window: WindowFaults }> = {
  'partition-halves': {
    describe: 'cut the nodes into two random halves (iptables DROP both ways), then heal',
    window: (rng, nodes) => ({ open: [{ f: 'partition', shape: 'halves', grudge: completeGrudge(bisect(rng.shuffle(nodes))) }], close: [{ f: 'heal' }] })
  },
  'isolate-one': {
    describe: 'cut one random node off from all the others, then heal',
    window: (rng, nodes) => ({ open: [{ f: 'partition', shape: 'isolate-one', grudge: isolateOne(nodes, rng.pick(nodes)) }], close: [{ f: 'heal' }] })
  },
  bridge: {
    describe: 'two halves that cannot see each other and one node that sees both, then heal',
    window: (rng, nodes) => ({ open: [{ f: 'partition', shape: 'bridge', grudge: bridgeGrudge(rng.shuffle(nodes)) }], close: [{ f: 'heal' }] })
  },
  'majorities-ring': {
    describe: 'every node sees a majority, no two the same one (a ring), then heal',
    window: (rng, nodes) => ({ open: [{ f: 'partition', shape: 'majorities-ring', grudge: majoritiesRingGrudge(rng.shuffle(nodes)) }], close: [{ f: 'heal' }] })
  },
  'kill-restart': {
    describe: 'SIGKILL a random node, then start it again with the same identity',
    window: (rng, nodes) => { const n = [rng.pick(nodes)]; return { open: [{ f: 'kill', nodes: n }], close: [{ f: 'restart', nodes: n }] } }
  },
  pause: {
    describe: 'SIGSTOP a random node, then SIGCONT it',
    window: (rng, nodes) => { const n = [rng.pick(nodes)]; return { open: [{ f: 'pause', nodes: n }], close: [{ f: 'resume', nodes: n }] } }
  },
  flaky: {
    describe: 'netem on a random minority: 50 ms ±10 ms delay and 20 % loss, then clear',
    window: (rng, nodes) => {
      const n = rng.shuffle(nodes).slice(0, Math.max(1, Math.floor((nodes.length - 1) / 2))).sort((a, b) => a - b)
      return { open: [{ f: 'netem', nodes: n, delayMs: 50, jitterMs: 10, lossPercent: 20 }], close: [{ f: 'netem-clear', nodes: n }] }
    }
  },
  slow: {
    describe: 'netem on every node: 50 ms ±10 ms delay, then clear',
    window: (_rng, nodes) => ({ open: [{ f: 'netem', nodes, delayMs: 50, jitterMs: 10, lossPercent: 0 }], close: [{ f: 'netem-clear', nodes }] })
  },
  churn: {
    describe: 'a random minority leaves cleanly (SIGTERM), then joins again',
    window: (rng, nodes) => {
      const n = rng.shuffle(nodes).slice(0, Math.max(1, Math.floor((nodes.length - 1) / 3))).sort((a, b) => a - b)
      return { open: [{ f: 'leave', nodes: n }], close: [{ f: 'join', nodes: n }] }
    }
  }
}

const MIXED_DESCRIPTION = 'each window a fault picked from the seed among all the others'

/** The scenarios `mesh sim list` shows, one line each. */
export function scenarioList (): Array<{ name: string, describe: string }> {
  return [...Object.entries(windows).map(([name, s]) => ({ name, describe: s.describe })), { name: 'mixed', describe: MIXED_DESCRIPTION }]
}

export function isScenario (name: string): boolean {
  return name === 'mixed' || Object.hasOwn(windows, name)
}

/**
 * The plan of `scenario` for `seed`: a pure function of its arguments. Each cycle opens a
 * fault window of a seeded length, closes it, and leaves a gap; a prime count starts in the
 * warm-up and at the start of every window.
 */
export function generatePlan (scenario: string, opts: PlanOptions): SimPlan {
  if (!isScenario(scenario)) throw new UnknownScenarioError(`no scenario "${scenario}"; mesh sim list shows them`)
  if (!Number.isInteger(opts.nodes) || opts.nodes < 2) throw new RangeError(`nodes must be a whole number of at least 2, got ${opts.nodes}`)
  if (!Number.isInteger(opts.seed) || opts.seed < 0) throw new RangeError(`seed must be a whole number, got ${opts.seed}`)
  const cycles = opts.cycles ?? DEFAULT_CYCLES
  if (!Number.isInteger(cycles) || cycles < 1) throw new RangeError(`cycles must be a whole number of at least 1, got ${cycles}`)
  const heartbeatMs = opts.heartbeatMs ?? (opts.light === true ? lightHeartbeatMs(opts.nodes) : DEFAULT_HEARTBEAT_MS)
  const rng = new SeededRandom(opts.seed)
  const nodes = Array.from({ length: opts.nodes }, (_, i) => i)
  const names = Object.keys(windows)

  const faults: FaultEvent[] = []
  const jobs: JobSpec[] = []
  let at = 0
  for (let c = 0; c < cycles; c++) {
    const kind = scenario === 'mixed' ? rng.pick(names) : scenario
    const { open, close } = windows[kind].window(rng, nodes)
    const length = rng.int(WINDOW_HEARTBEATS[0], WINDOW_HEARTBEATS[1]) * heartbeatMs
    for (const f of open) faults.push({ at, ...f })
    // The coordinator stays up: a job whose coordinator is killed resumes only when it restarts.
    const down = new Set(open.flatMap(f => f.f === 'kill' || f.f === 'pause' || f.f === 'leave' ? f.nodes : []))
    const up = nodes.filter(n => !down.has(n))
    // One count in the warm-up too; it may still run when the first window opens.
    const counts = opts.light === true ? LIGHT_COUNTS : KNOWN_COUNTS
    if (c === 0) jobs.push(jobAt(rng, -2 * heartbeatMs, up, counts))
    jobs.push(jobAt(rng, at + heartbeatMs, up, counts))
    for (const f of close) faults.push({ at: at + length, ...f })
    at += length + GAP_HEARTBEATS * heartbeatMs
  }

  const chatEveryMs = heartbeatMs * (opts.light === true ? Math.max(1, Math.ceil(opts.nodes / LIGHT_CHATS_PER_HEARTBEAT)) : 1)
  return {
    scenario,
    seed: opts.seed,
    nodes: opts.nodes,
    heartbeatMs,
    warmupMs: 4 * heartbeatMs,
    faultPhaseMs: at,
    settleMs: 30 * heartbeatMs,
    workload: { chatEveryMs, rpcEveryMs: 2 * chatEveryMs, rpcDeadlineMs: 3 * heartbeatMs, jobs },
    faults
  }
}

function jobAt (rng: SeededRandom, at: number, nodes: number[], counts: typeof KNOWN_COUNTS): JobSpec {
  return { at, node: rng.pick(nodes), ...rng.pick(counts) }
}

/** The default heartbeat of a light workload (nodes in one process): dilated above 20 nodes. */
export function lightHeartbeatMs (nodes: number): number {
  const dilation = Math.max(1, nodes / NODES_AT_DEFAULT_HEARTBEAT) ** DILATION_EXPONENT
  return Math.round(DEFAULT_HEARTBEAT_MS * dilation / 100) * 100
}
