import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { processHomesRoot, runTag } from '../netns/names.ts'
import { reapStaleFolders } from '../netns/reaper.ts'
import { InProcessNode } from './in-process-node.ts'
import { assertProcessTierPlan, ProcessNemesis } from './process-nemesis.ts'
import { shareSignatureChecks } from './shared-signature-checks.ts'
import { type RunOptions, type RunOutcome, runWithTier, type SimTier } from './run-phases.ts'

/**
 * Nodes bootstrap to the first one and learn the rest from its gossip: a few heartbeats,
 * even for a hundred; the dilated heartbeats of many nodes get as many heartbeats' time.
 */
const DISCOVERY_TIMEOUT_MS = 120_000
const DISCOVERY_TIMEOUT_HEARTBEATS = 20

/**
 * The process tier: N real mesh nodes in this process on libp2p's memory transport, each
 * with its own temporary home (and so its own control socket), bootstrapping to the first
 * node, mDNS off. No root, no namespaces: partitions are connection gaters, a kill is a
 * stop without a leave. Pauses and netem need processes and a network of their own and
 * are refused before anything starts. The homes are removed at the end, and a run killed
 * before that leaves them for the next run's reaper (they carry the runner's pid).
 */
export async function runProcessSimulation (opts: RunOptions): Promise<RunOutcome> {
  assertProcessTierPlan(opts.plan.faults)
  const root = processHomesRoot()
  const nodes: InProcessNode[] = []
  const tier: SimTier = {
    discoveryHow: 'through the first node',
    discoveryTimeoutMs: Math.max(DISCOVERY_TIMEOUT_MS, DISCOVERY_TIMEOUT_HEARTBEATS * opts.plan.heartbeatMs),
    setup: async ({ plan, history, progress, log, checkAbort }) => {
      progress('setup', 'removing homes earlier runs left')
      await reapStaleFolders()
      await mkdir(root, { recursive: true })
      await shareSignatureChecks()
      const address = (i: number): string => `/memory/${runTag()}-n${i}`
      progress('start', `${plan.nodes} nodes in this process (memory transport, mDNS off, bootstrap to n0)`)
      for (let i = 0; i < plan.nodes; i++) {
        nodes.push(new InProcessNode({ index: i, home: join(root, `n${i}`), listen: address(i), heartbeatMs: plan.heartbeatMs }))
      }
      await nodes[0].start()
      log(`n0 ${nodes[0].peerId} listening on ${address(0)}`)
      const bootstrap = `${address(0)}/p2p/${nodes[0].peerId}`
      for (const node of nodes.slice(1)) node.opts.bootstrap = bootstrap
      // A few at a time: each start opens a database and a socket and dials the first node.
      for (let i = 1; i < nodes.length; i += 10) {
        checkAbort()
        await Promise.all(nodes.slice(i, i + 10).map(async n => { await n.start() }))
        progress('start', `${Math.min(i + 10, nodes.length)}/${nodes.length} nodes`)
      }
      return { nodes, nemesis: new ProcessNemesis(nodes, history) }
    },
    peakRssMb: async () => [Math.round(process.resourceUsage().maxRSS / 1024)],
    teardown: async () => {
      await Promise.all(nodes.map(async n => { await n.kill().catch(() => {}) }))
      await rm(root, { recursive: true, force: true })
    }
  }
  return await runWithTier(opts, tier)
}
