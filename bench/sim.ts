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
 *   npm run bench:sim -- [--nodes 8] [--cycles 20] [--seed 1] [--scenario partition-halves] [--json]
 *
 * There is no other simulator to run side by side: the figures stand against the targets.
 * The process tier (100 nodes in one process on libp2p's memory transport) is not measured:
 * @libp2p/memory is not installed, and the bench says so.
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
    cycles: { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
    scenario: { type: 'string', default: 'partition-halves' },
    json: { type: 'boolean', default: false }
  }
})

const out = await mkdtemp(join(tmpdir(), 'mesh-bench-sim-'))
const load = loadavg().map(l => l.toFixed(2)).join(' ')
const args = [MESH_BIN, 'sim', values.scenario, '--nodes', values.nodes, '--cycles', values.cycles, '--seed', values.seed, '--out', out, '--json']
process.stderr.write(`bench:sim: mesh sim ${args.slice(2, -3).join(' ')} (load ${load})\n`)
const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
let stdout = ''
child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
const text = stdout.trim() !== '' ? stdout : await readFile(join(out, 'results.json'), 'utf8').catch(() => '')
if (text === '') {
  process.stderr.write(`bench:sim: the simulation did not finish (exit ${code})\n`)
  process.exit(1)
}
const r = JSON.parse(text)
const m = r.checkers.membership
const chat = r.checkers.chat
const lost = Object.values<number>(chat.lost ?? {}).reduce((a, b) => a + b, 0)
const duplicated = Object.values<number>(chat.duplicated ?? {}).reduce((a, b) => a + b, 0)
const figures = {
  cpu: cpus()[0]?.model ?? 'unknown',
  loadBefore: load,
  loadAfter: loadavg().map(l => l.toFixed(2)).join(' '),
  scenario: r.scenario,
  nodes: r.nodes,
  cycles: Number(values.cycles),
  valid: r.valid,
  checkers: Object.fromEntries(Object.entries<any>(r.checkers).map(([k, c]) => [k, c.valid])),
  lost,
  duplicated,
  convergenceAfterHealMs: m.convergenceMs,
  unconvergedHeals: (m.convergenceAfterEachFaultMs ?? []).filter((v: unknown) => v == null).length,
  detection: m.detection,
  falseDeaths: m.falseDeathCount,
  falseSuspicions: m.falseSuspicionCount,
  stableChatLatencyMs: chat.stableLatencyMs,
  setupMs: r.timings.setupMs,
  discoveryMs: r.timings.discoveryMs,
  teardownMs: r.timings.teardownMs,
  peakRssMb: Math.max(...r.peakRssMb),
  processTier: 'not run: @libp2p/memory is not installed',
  report: out
}
if (values.json === true) {
  process.stdout.write(JSON.stringify(figures) + '\n')
} else {
  const q = (x: any): string => x == null ? 'n/a' : `p50 ${x.p50} ms, p99 ${x.p99} ms, max ${x.max} ms (${x.count})`
  const lines = [
    `${figures.scenario}, ${figures.nodes} netns nodes, ${figures.cycles} cycles: verdict ${String(figures.valid)} (${Object.entries(figures.checkers).map(([k, v]) => `${k} ${String(v)}`).join(', ')})`,
    `  lost ${lost}, duplicated ${duplicated}                        target 0`,
    `  convergence after heal: ${q(figures.convergenceAfterHealMs)}; ${figures.unconvergedHeals} heals not converged before the next fault   target p99 <= 5000 ms`,
    ...Object.entries<any>(figures.detection ?? {}).map(([kind, d]) => `  detection (${kind}): suspect ${q(d.suspectMs)}; dead ${q(d.downMs)}; missed ${d.missed} of ${d.expectedPairs}`),
    `  false deaths ${figures.falseDeaths}, false suspicions ${figures.falseSuspicions}   target 0 deaths`,
    `  chat stable latency: ${q(figures.stableChatLatencyMs)}`,
    `  setup ${figures.setupMs} ms (namespaces and node start), discovery ${figures.discoveryMs} ms, teardown ${figures.teardownMs} ms   target setup+teardown <= 5000 ms`,
    `  peak RSS per node ${figures.peakRssMb} MB`,
    `  process tier (100 nodes): ${figures.processTier}`,
    `  CPU ${figures.cpu}; load ${figures.loadBefore} before, ${figures.loadAfter} after`,
    `  report: ${out}`
  ]
  process.stdout.write(lines.join('\n') + '\n')
}
if (process.env.MESH_BENCH_KEEP !== '1' && code === 0) await rm(out, { recursive: true, force: true })
