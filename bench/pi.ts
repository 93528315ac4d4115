// `npm run bench:pi`: our combinatorial pi(x) against primecount, side by side in one run.
// 1. One pinned core (taskset -c 0): `mesh primes count 0 X --local --workers 1` (what a user
//    runs; from 1e7 up it is the combinatorial method) against `primecount X -t1`,
//    alternately, medians, ratio ours / primecount. Both times are wall clock of the whole
//    process, start-up included; the user CPU seconds of each are printed beside them.
// 2. Mesh scaling: pi(1e17) as a job on a mesh of 2 peers against a mesh of 1, one worker
//    each, loopback, each node pinned to its own core (the coordinator to core 0, the other
//    peer to core 1), so that one peer has one core and two peers have two.
// Flags: --quick skips pi(1e17) (the scaling row then uses pi(1e15)); --top adds pi(2^63 - 1),
// pi(2^63 + 1) and pi(2^64 - 1) against primecount's known values (about half an hour of one
// core each here: see the README).
// Progress goes to stderr, one line per run.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { streamFromNode } from '../cli/control-client.ts'
import { startJobMesh } from '../test/utils/jobs-mesh.ts'
import type { MeshProcess } from '../test/utils/mesh-process.ts'

const MESH = fileURLToPath(new URL('../cli/mesh.js', import.meta.url))
const quick = process.argv.includes('--quick')
const top = process.argv.includes('--top')
/**
 * Known values at the top (primecount's): pi(2^63 - 1), which is also pi(2^63 + 1) since
 * 2^63 is even and 2^63 + 1 a multiple of 3; and pi(2^64 - 1). Ours must equal them.
 */
const PI_2_63 = '216289611853439384'
const PI_2_64 = '425656284035217743'
const ROWS: Array<{ x: string, pairs: number, known?: string }> = [
  { x: '1e13', pairs: 5 },
  { x: '1e15', pairs: 3 },
  ...(quick ? [] : [{ x: '1e17', pairs: 1 }]),
  ...(top
    ? [
        { x: (2n ** 63n - 1n).toString(), pairs: 1, known: PI_2_63 },
        { x: (2n ** 63n + 1n).toString(), pairs: 1, known: PI_2_63 },
        { x: (2n ** 64n - 1n).toString(), pairs: 1, known: PI_2_64 }
      ]
    : [])
]
const SCALING_X = quick ? '1e15' : '1e17'

function has (command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0
}

function note (line: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`)
}

/** Runs argv to its end under /usr/bin/time: wall seconds, user CPU seconds, stdout. */
async function timed (argv: string[]): Promise<{ seconds: number, cpu: number, stdout: string }> {
  const cpuFile = join(tmpdir(), `bench-pi-${process.pid}.cpu`)
  const withTime = has('/usr/bin/time') ? ['/usr/bin/time', '-f', '%U', '-o', cpuFile, ...argv] : argv
  const started = performance.now()
  const child = spawn(withTime[0], withTime.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] })
  let stdout = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s })
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  const seconds = (performance.now() - started) / 1000
  if (code !== 0) throw new Error(`${argv.join(' ')} exited with ${code}`)
  const cpu = existsSync(cpuFile) ? Number(readFileSync(cpuFile, 'utf8').trim().split('\n').pop()) : Number.NaN
  rmSync(cpuFile, { force: true })
  return { seconds, cpu, stdout: stdout.trim() }
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

const pin = (core: number, argv: string[]): string[] => has('taskset') ? ['taskset', '-c', String(core), ...argv] : argv

if (!has('primecount')) {
  console.log('primecount is not on PATH (Debian: apt-get install primecount); nothing to compare against.')
  process.exit(0)
}
const uptime = (): string => execFileSync('uptime', { encoding: 'utf8' }).trim().replace(/^.*load average/, 'load average')
console.log(`${execFileSync('primecount', ['--version'], { encoding: 'utf8' }).split('\n')[0]}, node ${process.version}`)
console.log(`CPU: ${execFileSync('sh', ['-c', "lscpu | grep 'Model name' | sed 's/.*: *//'"], { encoding: 'utf8' }).trim()}; before: ${uptime()}`)
console.log('\none pinned core: mesh primes count 0 X --local --workers 1 vs primecount X -t1 (wall, median; user CPU median)')
for (const row of ROWS) {
  const ours: number[] = []
  const oursCpu: number[] = []
  const theirs: number[] = []
  const theirsCpu: number[] = []
  let count = ''
  for (let i = 0; i < row.pairs; i++) {
    note(`pi(${row.x}) ours, run ${i + 1} of ${row.pairs}`)
    const a = await timed(pin(0, [process.execPath, MESH, 'primes', 'count', '0', row.x, '--local', '--workers', '1', '--json']))
    count = String(JSON.parse(a.stdout).count)
    note(`  ${count} in ${a.seconds.toFixed(2)} s`)
    ours.push(a.seconds)
    oursCpu.push(a.cpu)
    if (row.known != null) {
      if (count !== row.known) throw new Error(`pi(${row.x}): ours ${count}, primecount's known value ${row.known}`)
      continue
    }
    note(`pi(${row.x}) primecount, run ${i + 1} of ${row.pairs}`)
    const b = await timed(pin(0, ['primecount', row.x, '-t1']))
    if (count !== b.stdout) throw new Error(`pi(${row.x}): ours ${count}, primecount ${b.stdout}`)
    theirs.push(b.seconds)
    theirsCpu.push(b.cpu)
  }
  if (theirs.length === 0) {
    console.log(`  pi(${row.x}) = ${count}: ours ${median(ours).toFixed(2)} s (CPU ${median(oursCpu).toFixed(2)} s), equal to primecount's known value (primecount not run)`)
  } else {
    const ratio = median(ours) / median(theirs)
    console.log(`  pi(${row.x}) = ${count}: ours ${median(ours).toFixed(2)} s (CPU ${median(oursCpu).toFixed(2)}), ` +
      `primecount ${median(theirs).toFixed(2)} s (CPU ${median(theirsCpu).toFixed(2)}), ratio ${ratio.toFixed(2)} (${row.pairs} pairs; ${uptime()})`)
  }
}

/** Starts `peers` nodes, node i pinned to core i, the others bootstrapping from the first. */
async function startPinnedMesh (peers: number): Promise<MeshProcess[]> {
  const pin = (i: number): string[] | undefined => has('taskset') ? ['taskset', '-c', String(i % 2)] : undefined
  return await startJobMesh(Array.from({ length: peers }, (_, i) => `p${i}`), {}, pin)
}

async function meshSeconds (peers: number): Promise<{ seconds: number, count: string, shards: string }> {
  const nodes = await startPinnedMesh(peers)
  try {
    const started = performance.now()
    let lastNote = 0
    for await (const event of streamFromNode(nodes[0].home, 'jobs.start', { from: '0', to: BigInt(Number(SCALING_X)).toString(), method: 'combinatorial' })) {
      if (event.type === 'progress' && performance.now() - lastNote > 15_000) {
        lastNote = performance.now()
        note(`  ${peers} peer(s): ${Math.round(100 * Number(event.fraction))}%`)
      }
      if (event.type === 'done') {
        // Leaf shards (hard and easy leaves) and their compute seconds, per peer that did any.
        const peerReports = event.report.peers as Array<{ shards: number, seconds: number }>
        const shards = peerReports.map(p => `${p.shards} (${p.seconds.toFixed(0)} s)`).join(' + ')
        return { seconds: (performance.now() - started) / 1000, count: event.report.count, shards }
      }
    }
    throw new Error('the job stream ended without a result')
  } finally {
    await Promise.all(nodes.map(async n => await n.destroy()))
  }
}

console.log(`\nmesh scaling: pi(${SCALING_X}) as a job, one worker per peer, loopback, node i pinned to core i`)
const runs = quick ? 2 : 1
const one: number[] = []
const two: number[] = []
let split = ''
for (let i = 0; i < runs; i++) {
  note(`pi(${SCALING_X}) on 1 peer, run ${i + 1} of ${runs}`)
  const a = await meshSeconds(1)
  note(`  ${a.seconds.toFixed(1)} s`)
  note(`pi(${SCALING_X}) on 2 peers, run ${i + 1} of ${runs}`)
  const b = await meshSeconds(2)
  note(`  ${b.seconds.toFixed(1)} s (shards ${b.shards})`)
  if (a.count !== b.count) throw new Error(`1 peer says ${a.count}, 2 peers say ${b.count}`)
  one.push(a.seconds)
  two.push(b.seconds)
  split = b.shards
}
console.log(`  1 peer ${median(one).toFixed(2)} s, 2 peers ${median(two).toFixed(2)} s (leaf shards (compute seconds) per peer ${split}; median of ${runs}), speed-up ${(median(one) / median(two)).toFixed(2)}`)
console.log(`after: ${uptime()}`)
