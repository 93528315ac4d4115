/**
 * Fault benchmark: what a dead or hung worker costs a distributed prime count. Three
 * `mesh start` processes on loopback (coordinator + 2 workers, 1 worker thread each):
 *   clean  no fault
 *   kill   SIGKILL of a worker at 50% of the range
 *   stop   SIGSTOP of a worker at 80%, stopped until the end
 *
 *   npm run bench:faults -- [--from 1e12] [--width 5e10] [--runs 1] [--json]
 *
 * Targets: kill costs at most detection + 2 shard times over clean (detection = signal until
 * the coordinator took the first shard back: reassigned, or copied as a backup); stop at
 * most 1.25x clean.
 * A fresh mesh per run; scenarios interleaved when --runs > 1. Progress on stderr.
 */
import { parseArgs } from 'node:util'
import { cpus, loadavg } from 'node:os'
import { parseBound } from '../cli/parse-bound.ts'
import { primesieveCount, startJobMesh } from '../test/utils/jobs-mesh.ts'
import { runJob, type BenchReport } from './job-bench-support.ts'

const STOPPED_TARGET_RATIO = 1.25

type Scenario = 'clean' | 'kill' | 'stop'
interface Run { scenario: Scenario, seconds: number, shardSeconds: number, detectionMs: number | null, reassigned: number, backups: number, exact: boolean | null }

const { values } = parseArgs({
  options: {
    from: { type: 'string', default: '1e12' },
    width: { type: 'string', default: '5e10' },
    runs: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false }
  }
})
const from = parseBound(values.from, '--from')
const to = from + parseBound(values.width, '--width')
const say = (line: string): void => { process.stderr.write(`${line}\n`) }
const expected = (() => { try { return primesieveCount(from, to) } catch { return null } })()

async function runOnce (scenario: Scenario): Promise<Run> {
  const nodes = await startJobMesh(['coord', 'w1', 'w2'])
  try {
    const [coord, victim] = [nodes[0], nodes[1]]
    const at = scenario === 'kill' ? 0.5 : 0.8
    let hurtAt: number | null = null
    let detectedAt: number | null = null
    // Taken back: reassigned (lost peer, failed call, expired lease) or copied (backup of a straggler).
    const takenBack = (e: { reassigned: number, backups: number }): number => e.reassigned + e.backups
    let takenBefore = 0
    const report: BenchReport = await runJob(coord, from, to, (fraction, event) => {
      if (scenario !== 'clean' && hurtAt == null && fraction >= at) {
        victim.signal(scenario === 'kill' ? 'SIGKILL' : 'SIGSTOP')
        hurtAt = performance.now()
        takenBefore = takenBack(event)
      } else if (hurtAt != null && detectedAt == null && takenBack(event) > takenBefore) {
        detectedAt = performance.now()
      }
    })
    const shardSeconds = report.peers.reduce((s, p) => s + p.seconds, 0) / Math.max(1, report.shards)
    return {
      scenario,
      seconds: report.seconds,
      shardSeconds,
      detectionMs: hurtAt != null && detectedAt != null ? Math.round(detectedAt - hurtAt) : null,
      reassigned: report.reassigned,
      backups: report.backups,
      exact: expected == null ? null : BigInt(report.count) === expected
    }
  } finally {
    await Promise.all(nodes.map(async n => await n.destroy()))
  }
}

say(`[${from}, ${to}]: ${cpus().length} cores, load ${loadavg()[0].toFixed(2)}`)
const runs: Run[] = []
for (let i = 0; i < Number(values.runs); i++) {
  for (const scenario of ['clean', 'kill', 'stop'] as const) {
    const run = await runOnce(scenario)
    runs.push(run)
    say(`${scenario.padEnd(5)} ${run.seconds.toFixed(2)} s, shard ${run.shardSeconds.toFixed(2)} s, detection ${run.detectionMs ?? '-'} ms, reassigned ${run.reassigned}, backups ${run.backups}${run.exact === false ? ' WRONG COUNT' : ''}`)
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const of = (s: Scenario): Run[] => runs.filter(r => r.scenario === s)
const clean = median(of('clean').map(r => r.seconds))
const kill = median(of('kill').map(r => r.seconds))
const stop = median(of('stop').map(r => r.seconds))
const shard = median(runs.map(r => r.shardSeconds))
const detection = median(of('kill').map(r => r.detectionMs ?? 0)) / 1000
const killBudget = detection + 2 * shard
const summary = {
  from: from.toString(),
  to: to.toString(),
  cleanSeconds: clean,
  kill: { seconds: kill, extraSeconds: kill - clean, detectionSeconds: detection, budgetSeconds: killBudget, ok: kill - clean <= killBudget },
  stop: { seconds: stop, extraSeconds: stop - clean, ratio: stop / clean, target: STOPPED_TARGET_RATIO, ok: stop / clean <= STOPPED_TARGET_RATIO },
  medianShardSeconds: shard,
  allExact: runs.every(r => r.exact !== false),
  runs
}
if (values.json) {
  process.stdout.write(`${JSON.stringify(summary)}\n`)
} else {
  const f = (x: number): string => x.toFixed(2)
  process.stdout.write(`clean          ${f(clean)} s (median shard ${f(shard)} s)\n`)
  process.stdout.write(`kill at 50%    ${f(kill)} s: +${f(kill - clean)} s (budget: detection ${f(detection)} + 2 shards = ${f(killBudget)} s) ${summary.kill.ok ? 'ok' : 'MISSED'}\n`)
  process.stdout.write(`stop at 80%    ${f(stop)} s: ${f(stop / clean)}x clean (target <= ${STOPPED_TARGET_RATIO}x) ${summary.stop.ok ? 'ok' : 'MISSED'}\n`)
  if (!summary.allExact) process.stdout.write('SOME COUNTS WERE WRONG\n')
}
process.exitCode = summary.kill.ok && summary.stop.ok && summary.allExact ? 0 : 1
