import { mkdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { homesRoot } from '../netns/names.ts'
import { reapLeftovers } from '../netns/reaper.ts'
import { NetemUnavailableError, SimNetwork } from '../netns/sim-network.ts'
import { Nemesis } from './nemesis.ts'
import { type RunOptions, type RunOutcome, runWithTier, type SimTier } from './run-phases.ts'
import { SimNode } from './sim-node.ts'

/** How long the nodes get to find each other by mDNS before the run gives up. */
const DISCOVERY_TIMEOUT_MS = 90_000

/**
 * The netns tier: hosts in network namespaces on a bridge, a real `mesh start` in each
 * (mDNS on, no bootstrap), the workload, the plan's faults, a final heal, a wait for the
 * mesh to settle, and the final reads. Whatever happens, it ends by killing its nodes and
 * deleting its namespaces and homes; what a SIGKILL leaves, the reaper at the next start removes.
 */
export async function runNetnsSimulation (opts: RunOptions): Promise<RunOutcome> {
  let network: SimNetwork | undefined
  const nodes: SimNode[] = []
  const tier: SimTier = {
    discoveryHow: 'by mDNS',
    discoveryTimeoutMs: DISCOVERY_TIMEOUT_MS,
    setup: async ({ plan, dir, history, progress, log, checkAbort }) => {
      progress('setup', 'removing what earlier runs left')
      await reapLeftovers()
      await mkdir(homesRoot(), { recursive: true })
      progress('setup', `${plan.nodes} namespaces on a bridge`)
      network = await SimNetwork.create(plan.nodes, log)
      if (!network.netemAvailable) {
        const opening = plan.faults.filter(f => ['partition', 'kill', 'pause', 'netem', 'leave'].includes(f.f))
        const delayOnly = opening.filter(f => f.f === 'netem' && f.lossPercent === 0)
        if (opening.length > 0 && delayOnly.length === opening.length) {
          throw new NetemUnavailableError('this kernel has no netem (sch_netem), and every fault of the plan is a delay, which needs it')
        }
        if (opening.some(f => f.f === 'netem')) progress('setup', 'no netem in this kernel: loss through iptables, delay left out (such windows end up unknown)')
      }
      checkAbort()
      for (const host of network.hosts) {
        nodes.push(new SimNode({ index: host.index, netns: host.netns, home: join(homesRoot(), `n${host.index}`), logFile: join(dir, 'nodes', `n${host.index}.log`), heartbeatMs: plan.heartbeatMs }))
      }
      progress('start', `${plan.nodes} nodes (mesh start, mDNS on, no bootstrap)`)
      await Promise.all(nodes.map(async n => { await n.start() }))
      return { nodes, nemesis: new Nemesis(network, nodes, history) }
    },
    peakRssMb: async () => await Promise.all(nodes.map(async n => await peakRss(n.child?.pid))),
    teardown: async () => {
      await Promise.all(nodes.map(async n => { await n.kill() }))
      await network?.destroy()
      await rm(homesRoot(), { recursive: true, force: true })
    }
  }
  return await runWithTier(opts, tier)
}

async function peakRss (pid: number | undefined): Promise<number> {
  if (pid == null) return 0
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0)
  return Math.round(kb / 1024)
}
