import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { runCheckers } from '../../simulations/checkers/run-checkers.ts'
import { reapLeftovers, reapStaleFolders } from '../../simulations/netns/reaper.ts'
import { InvalidPlanError, parsePlan } from '../../simulations/plan/plan-file.ts'
import type { SimPlan } from '../../simulations/plan/plan.ts'
import { generatePlan, isScenario, scenarioList } from '../../simulations/plan/scenarios.ts'
import { type SimResults, verdictLine } from '../../simulations/report/results.ts'
import { linkLatest, writeReport } from '../../simulations/report/write-report.ts'
import { runNetnsSimulation } from '../../simulations/runner/netns-runner.ts'
import { assertProcessTierPlan, UnsupportedFaultError } from '../../simulations/runner/process-nemesis.ts'
import { runProcessSimulation } from '../../simulations/runner/process-runner.ts'
import type { RunOutcome } from '../../simulations/runner/run-phases.ts'
import { UsageError, WorkFailedError } from '../errors.ts'
import type { SimOptions } from './sim.ts'
import { printJson, table } from '../output.ts'

/** Namespaces, veths and processes: two cores hold about a dozen nodes. */
const MAX_NETNS_NODES = 32
/** Nodes sharing one process and its heap: a hundred fit on two cores. */
const MAX_PROCESS_NODES = 200

export function listScenarios (json: boolean): void {
  const scenarios = scenarioList()
  if (json) { printJson({ scenarios }); return }
  process.stdout.write(table(scenarios.map(s => [s.name, s.describe])))
}

export async function clean (json: boolean): Promise<void> {
  // Without root there can be no namespace to remove, only the process tier's homes.
  const reaped = process.getuid?.() === 0 ? await reapLeftovers() : { namespaces: [], processes: [], folders: await reapStaleFolders() }
  if (json) { printJson(reaped); return }
  process.stdout.write(`removed ${reaped.namespaces.length} namespaces, ${reaped.processes.length} processes, ${reaped.folders.length} folders left by earlier runs\n`)
}

export async function runSimulation (scenario: string | undefined, opts: SimOptions): Promise<void> {
  const tier = pickTier(opts.tier)
  const plan = await resolvePlan(scenario, opts, tier === 'process')
  if (opts.tier == null && tier === 'process') process.stderr.write('mesh: not root, so the process tier (nodes in one process) instead of network namespaces\n')
  if (tier === 'process') {
    if (plan.nodes > MAX_PROCESS_NODES) throw new UsageError(`--nodes: the process tier runs at most ${MAX_PROCESS_NODES} nodes, got ${plan.nodes}`)
    try {
      assertProcessTierPlan(plan.faults)
    } catch (err) {
      if (err instanceof UnsupportedFaultError) throw new UsageError(`${plan.scenario}: ${err.message}`)
      throw err
    }
  } else if (plan.nodes > MAX_NETNS_NODES) {
    throw new UsageError(`--nodes: the netns tier runs at most ${MAX_NETNS_NODES} nodes, got ${plan.nodes}`)
  }

  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')
  const dir = resolve(opts.out ?? join('mesh-sim', `${plan.scenario}-${plan.seed}-${stamp}`))
  // The plan first, so a run that dies midway can still be replayed (--plan).
  const planText = JSON.stringify(plan)
  if (opts.json === true) process.stderr.write(`plan: ${planText}\n`)
  else process.stdout.write(`plan: ${planText}\n`)

  const controller = new AbortController()
  const onSignal = (): void => {
    progressLine('interrupted', 'cleaning up')
    controller.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const started = new Date()
  let outcome: RunOutcome
  try {
    const run = tier === 'process' ? runProcessSimulation : runNetnsSimulation
    outcome = await run({ plan, dir, onProgress: progressLine, signal: controller.signal })
  } catch (err: any) {
    endProgress()
    if (err?.name === 'RunAbortedError') {
      process.stderr.write(`mesh: interrupted; ${tier === 'process' ? 'nodes stopped, homes' : 'namespaces, rules and nodes'} removed\n`)
      process.exitCode = 130
      return
    }
    throw new WorkFailedError(`the simulation did not run to the end: ${String(err?.message ?? err)}`)
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  endProgress()
  const verdict = runCheckers(outcome.history)
  const results: SimResults = {
    valid: verdict.valid,
    scenario: plan.scenario,
    seed: plan.seed,
    tier,
    nodes: plan.nodes,
    reproduce: reproduceCommand(plan, opts, dir, tier),
    startedAt: started.toISOString(),
    timings: outcome.timings,
    peakRssMb: outcome.peakRssMb,
    checkers: verdict.checkers,
    plan,
    dir
  }
  await writeReport(results, outcome.history, outcome.commands)
  if (opts.out == null) await linkLatest(dir)
  if (opts.json === true) printJson(results)
  else process.stdout.write(verdictLine(results) + '\n')
  if (verdict.valid !== true) process.exitCode = 1
}

async function resolvePlan (scenario: string | undefined, opts: SimOptions, light: boolean): Promise<SimPlan> {
  if (opts.plan != null) {
    let text: string
    try {
      text = await readFile(opts.plan, 'utf8')
    } catch (err: any) {
      throw new UsageError(`--plan: cannot read ${opts.plan}: ${String(err?.code ?? err?.message)}`)
    }
    try {
      return parsePlan(text)
    } catch (err) {
      if (err instanceof InvalidPlanError) throw new UsageError(`--plan ${opts.plan}: ${err.message}`)
      throw err
    }
  }
  if (scenario == null) throw new UsageError('name a scenario (mesh sim list shows them) or give --plan FILE')
  if (!isScenario(scenario)) throw new UsageError(`no scenario "${scenario}"; mesh sim list shows them`)
  if (opts.nodes < 2) throw new UsageError('--nodes must be at least 2')
  return generatePlan(scenario, { nodes: opts.nodes, seed: opts.seed, cycles: opts.cycles, heartbeatMs: opts.heartbeat, light })
}

function pickTier (asked: 'netns' | 'process' | undefined): 'netns' | 'process' {
  const root = process.getuid?.() === 0
  if (asked === 'netns') {
    assertRoot('the netns tier')
    return 'netns'
  }
  if (asked === 'process') return 'process'
  return root ? 'netns' : 'process'
}

function assertRoot (what: string): void {
  if (process.getuid?.() !== 0) throw new WorkFailedError(`${what} needs root (it creates network namespaces, veths, iptables rules)`)
}

function reproduceCommand (plan: SimPlan, opts: SimOptions, dir: string, tier: 'netns' | 'process'): string {
  // Without root the process tier is the default, but a reader as root would get the netns tier.
  const tierOption = tier === 'process' ? ' --tier process' : ''
  if (opts.plan != null) return `mesh sim --plan ${join(dir, 'plan.json')}${tierOption}`
  const heartbeat = opts.heartbeat != null ? ` --heartbeat ${opts.heartbeat}` : ''
  return `mesh sim ${plan.scenario}${tierOption} --nodes ${plan.nodes} --seed ${plan.seed} --cycles ${opts.cycles}${heartbeat}`
}

const phaseStarted = Date.now()
let lineOpen = false

/** The phase on one line of stderr: rewritten in place on a terminal, a line each otherwise. */
function progressLine (phase: string, detail = ''): void {
  const text = `[${((Date.now() - phaseStarted) / 1000).toFixed(1).padStart(6)} s] ${phase}${detail !== '' ? `: ${detail}` : ''}`
  if (process.stderr.isTTY === true) {
    process.stderr.write(`\r\x1b[K${text.slice(0, (process.stderr.columns ?? 100) - 1)}`)
    lineOpen = true
  } else {
    process.stderr.write(text + '\n')
  }
}

function endProgress (): void {
  if (lineOpen) process.stderr.write('\n')
  lineOpen = false
}
