/**
 * Scaling benchmark: one distributed prime count on 1 peer of 1 worker vs 2 peers of 1 worker
 * each (separate `mesh start` processes on loopback), runs interleaved, medians compared.
 *
 *   npm run bench:scale -- [--from 1e12] [--width 1e11] [--runs 3] [--json]
 *
 * Target: speedup >= 1.9x. Each run is checked against primesieve when it is installed, and
 * primesieve -t1 vs -t2 on the same range, interleaved with the runs, measures what two cores
 * can give right now (the hardware ceiling on a shared machine): speedup / ceiling is the
 * share the scheduler delivers.
 * Progress on stderr, the table on stdout (one JSON document with --json).
 */
import { execFileSync } from 'node:child_process'
import { parseArgs } from 'node:util'
import { cpus, loadavg } from 'node:os'
import { parseBound } from '../cli/parse-bound.ts'
import { JOB_NODE_ARGS, primesieveCount, startJobMesh } from '../test/utils/jobs-mesh.ts'
import { MeshProcess } from '../test/utils/mesh-process.ts'
import { runJob } from './job-bench-support.ts'

const TARGET_SPEEDUP = 1.9

const { values } = parseArgs({
  options: {
    from: { type: 'string', default: '1e12' },
    width: { type: 'string', default: '1e11' },
    runs: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false }
  }
})
const from = parseBound(values.from, '--from')
const to = from + parseBound(values.width, '--width')
const runs = Number(values.runs)
const say = (line: string): void => { process.stderr.write(`${line}\n`) }

const expected = (() => { try { return primesieveCount(from, to) } catch { return null } })()
say(`[${from}, ${to}]: ${runs} runs each, interleaved; ${cpus().length} cores, load ${loadavg()[0].toFixed(2)}`)
const solo = await MeshProcess.start({ name: 'solo', args: JOB_NODE_ARGS })
const pair = await startJobMesh(['pair1', 'pair2'])
const seconds: Record<'one' | 'two', number[]> = { one: [], two: [] }
const ceilings: number[] = []
/** Wall seconds of primesieve with `threads` threads on the range, or null without primesieve. */
function primesieveSeconds (threads: number): number | null {
  try {
    const started = performance.now()
    execFileSync('primesieve', [from.toString(), to.toString(), '-c1', '-q', `-t${threads}`])
    return (performance.now() - started) / 1000
  } catch {
    return null
  }
}
// Busy share of the workers' wall time: below 1 when the scheduler leaves a worker idle.
const busy: Record<'one' | 'two', number[]> = { one: [], two: [] }
let wrong = 0
try {
  for (let i = 0; i < runs; i++) {
    const t1 = primesieveSeconds(1)
    const t2 = primesieveSeconds(2)
    if (t1 != null && t2 != null) {
      ceilings.push(t1 / t2)
      say(`run ${i + 1} primesieve -t1 ${t1.toFixed(2)} s, -t2 ${t2.toFixed(2)} s: two cores give ${(t1 / t2).toFixed(2)}x now`)
    }
    for (const [label, node] of [['one', solo], ['two', pair[0]]] as const) {
      const report = await runJob(node, from, to)
      if (expected != null && BigInt(report.count) !== expected) wrong++
      seconds[label].push(report.seconds)
      const workers = label === 'one' ? 1 : 2
      busy[label].push(report.peers.reduce((t, p) => t + p.seconds, 0) / (workers * report.seconds))
      say(`run ${i + 1} ${label === 'one' ? '1 peer ' : '2 peers'}: ${report.seconds.toFixed(2)} s, ${report.shards} shards, workers busy ${(100 * (busy[label].at(-1) as number)).toFixed(0)}%, ${report.count} primes${expected != null && BigInt(report.count) !== expected ? ' WRONG' : ''}`)
    }
  }
} finally {
  await Promise.all([solo, ...pair].map(async n => await n.destroy()))
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const speedup = median(seconds.one) / median(seconds.two)
const ceiling = ceilings.length > 0 ? median(ceilings) : null
const result = { from: from.toString(), to: to.toString(), runs, onePeerSeconds: seconds.one, twoPeersSeconds: seconds.two, workersBusy: busy, speedup: Math.round(speedup * 100) / 100, primesieveCeiling: ceiling, target: TARGET_SPEEDUP, wrongCounts: wrong }
if (values.json) {
  process.stdout.write(`${JSON.stringify(result)}\n`)
} else {
  process.stdout.write(`1 peer x 1 worker : median ${median(seconds.one).toFixed(2)} s  (${seconds.one.map(s => s.toFixed(2)).join(', ')})\n`)
  process.stdout.write(`2 peers x 1 worker: median ${median(seconds.two).toFixed(2)} s  (${seconds.two.map(s => s.toFixed(2)).join(', ')})\n`)
  process.stdout.write(`workers busy     : 1 peer ${(100 * median(busy.one)).toFixed(0)}%, 2 peers ${(100 * median(busy.two)).toFixed(0)}% (compute seconds / (workers x wall))\n`)
  if (ceiling != null) process.stdout.write(`primesieve -t1/-t2: ${ceiling.toFixed(2)}x (what two cores gave during the runs); mesh speedup / that = ${(speedup / ceiling * 100).toFixed(0)}%\n`)
  process.stdout.write(`speedup ${speedup.toFixed(2)}x (target >= ${TARGET_SPEEDUP}x)${wrong > 0 ? `, ${wrong} WRONG counts` : ''}\n`)
}
process.exitCode = wrong > 0 || speedup < TARGET_SPEEDUP ? 1 : 0
