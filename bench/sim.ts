/**
 * Simulation benchmark: many partition/heal cycles of `mesh sim partition-halves` in the
 * netns tier (root), and what the mesh did through them, against the targets:
 *   lost and duplicated chat messages       target 0
 *   convergence after each heal p50/p99     target <= 5 s with 8 nodes
 *   detection time (cut until dead)         per fault kind, p50/max
 *   false deaths                            target 0
 *   setup and teardown of the hosts         target <= 5 s for 8 hosts
 *   peak memory per node
 *
 *   npm run bench:sim -- [--nodes 8] [--process-nodes 100] [--cycles 20] [--seed 1] [--scenario partition-halves] [--json]
 *
 * Then the same scenario and cycles in the process tier (`--process-nodes`, default 100, nodes
 * in one process on libp2p's memory transport; 0 skips it), against its target of <= 10 s
 * convergence, with the process's peak memory. `--netns-nodes 0` skips the netns run (it
 * needs root). There is no other simulator to run side by side: the figures stand against
 * the targets.
 *
 *   npm run bench:sim -- --netns-nodes 0 --process-nodes 24 --cycles 2
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const MESH_BIN = fileURLToPath(new URL('../cli/mesh.js', import.meta.url))
const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '8' },
    'netns-nodes': { type: 'string' },
    'process-nodes': { type: 'string', default: '100' },
    cycles: { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
    scenario: { type: 'string', default: 'partition-halves' },
    json: { type: 'boolean', default: false }
  }
})

const netnsNodes = Number(values['netns-nodes'] ?? values.nodes)
const processNodes = Number(values['process-nodes'])
const runs: Array<{ tier: 'netns' | 'process', nodes: number }> = [
  ...(netnsNodes > 0 ? [{ tier: 'netns' as const, nodes: netnsNodes }] : []),
  ...(processNodes > 0 ? [{ tier: 'process' as const, nodes: processNodes }] : [])
]
const all: any[] = []
let failed = false
for (const run of runs) {
  const figures = await simulate(run.tier, run.nodes)
  if (figures == null) { failed = true; continue }
  all.push(figures)
  if (values.json !== true) process.stdout.write(describe(figures) + '\n')
}
if (values.json === true) process.stdout.write(JSON.stringify(all.length === 1 ? all[0] : all) + '\n')
if (failed) process.exitCode = 1

/** One `mesh sim` run in `tier`, and the figures the checkers found; undefined when it did not finish. */
async function simulate (tier: 'netns' | 'process', nodes: number): Promise<any> {
  const out = await mkdtemp(join(tmpdir(), 'mesh-bench-sim-'))
  const load = loadavg().map(l => l.toFixed(2)).join(' ')
  const args = [MESH_BIN, 'sim', values.scenario, '--tier', tier, '--nodes', String(nodes), '--cycles', values.cycles, '--seed', values.seed, '--out', out, '--json']
  process.stderr.write(`bench:sim: mesh sim ${args.slice(2, -3).join(' ')} (load ${load})\n`)
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  let stdout = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
  const text = stdout.trim() !== '' ? stdout : await readFile(join(out, 'results.json'), 'utf8').catch(() => '')
  if (text === '') {
    process.stderr.write(`bench:sim: the ${tier} simulation did not finish (exit ${code})\n`)
    return undefined
  }
  const r = JSON.parse(text)
  const m = r.checkers.membership
  const chat = r.checkers.chat
  const figures = {
    cpu: cpus()[0]?.model ?? 'unknown',
    loadBefore: load,
    loadAfter: loadavg().map(l => l.toFixed(2)).join(' '),
    tier,
    scenario: r.scenario,
    nodes: r.nodes,
    cycles: Number(values.cycles),
    valid: r.valid,
    checkers: Object.fromEntries(Object.entries<any>(r.checkers).map(([k, c]) => [k, c.valid])),
    lost: Object.values<number>(chat.lost ?? {}).reduce((a, b) => a + b, 0),
    duplicated: Object.values<number>(chat.duplicated ?? {}).reduce((a, b) => a + b, 0),
    convergenceAfterHealMs: m.convergenceMs,
    unconvergedHeals: (m.convergenceAfterEachFaultMs ?? []).filter((v: unknown) => v == null).length,
    detection: m.detection,
    falseDeaths: m.falseDeathCount,
    falseSuspicions: m.falseSuspicionCount,
    relayedSuspicions: m.relayedSuspicionCount,
    heartbeatMs: r.plan.heartbeatMs,
    // A cycle is a window and the gap after it, as long as the plan says whatever the load.
    cycleMs: Math.round(r.plan.faultPhaseMs / Number(values.cycles)),
    totalMs: r.timings.totalMs,
    // The same run with 20 cycles: everything but the fault phase stays.
    estimate20CyclesMs: Math.round(r.timings.totalMs + (20 - Number(values.cycles)) * r.plan.faultPhaseMs / Number(values.cycles)),
    stableChatLatencyMs: chat.stableLatencyMs,
    setupMs: r.timings.setupMs,
    discoveryMs: r.timings.discoveryMs,
    teardownMs: r.timings.teardownMs,
    // Per node in the netns tier; the whole process in the process tier.
    peakRssMb: Math.max(...r.peakRssMb),
    report: out
  }
  if (process.env.MESH_BENCH_KEEP !== '1' && code === 0) await rm(out, { recursive: true, force: true })
  return figures
}

function describe (f: any): string {
  const q = (x: any): string => x == null ? 'n/a' : `p50 ${x.p50} ms, p99 ${x.p99} ms, max ${x.max} ms (${x.count})`
  const convergenceTarget = f.tier === 'netns' ? 5000 : 10_000
  return [
    `${f.scenario}, ${f.nodes} ${f.tier} nodes, ${f.cycles} cycles: verdict ${String(f.valid)} (${Object.entries(f.checkers).map(([k, v]) => `${k} ${String(v)}`).join(', ')})`,
    `  lost ${f.lost}, duplicated ${f.duplicated}                        target 0`,
    `  convergence after heal: ${q(f.convergenceAfterHealMs)}; ${f.unconvergedHeals} heals not converged before the next fault   target p99 <= ${convergenceTarget} ms`,
    ...Object.entries<any>(f.detection ?? {}).map(([kind, d]) => `  detection (${kind}): suspect ${q(d.suspectMs)}; dead ${q(d.downMs)}; missed ${d.missed} of ${d.expectedPairs}`),
    `  false deaths ${f.falseDeaths}, false suspicions ${f.falseSuspicions} (and ${f.relayedSuspicions ?? 0} relayed across a cut)   target 0 deaths`,
    `  chat stable latency: ${q(f.stableChatLatencyMs)}`,
    `  setup ${f.setupMs} ms (node start), discovery ${f.discoveryMs} ms, teardown ${f.teardownMs} ms${f.tier === 'netns' ? '   target setup+teardown <= 5000 ms' : ''}`,
    `  peak RSS ${f.tier === 'netns' ? 'per node' : 'of the process'} ${f.peakRssMb} MB`,
    `  heartbeat ${f.heartbeatMs} ms; a cycle ${(f.cycleMs / 1000).toFixed(0)} s; the run ${(f.totalMs / 60_000).toFixed(1)} min (${(f.estimate20CyclesMs / 60_000).toFixed(0)} min with 20 cycles)`,
    `  CPU ${f.cpu}; load ${f.loadBefore} before, ${f.loadAfter} after`,
    `  report: ${f.report}`
  ].join('\n')
}
