// `npm run bench:pi`: our combinatorial pi(x) against primecount, side by side in one run.
// 1. One pinned core (taskset -c 0): `mesh primes count 0 X --local --workers 1 --method
//    combinatorial` against `primecount X -t1`, alternately, medians, ratio ours / primecount.
//    Both times are wall clock of the whole process, start-up included.
// 2. Mesh scaling: the same count as a job on a mesh of 2 peers against a mesh of 1 (one
//    worker each, loopback), ratio 1 peer / 2 peers.
// pi(1e17) takes minutes of one core here; it runs only with `npm run bench:pi -- --1e17`.
import { execFileSync, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { streamFromNode } from '../cli/control-client.ts'
import { startJobMesh } from '../test/utils/jobs-mesh.ts'
import type { MeshProcess } from '../test/utils/mesh-process.ts'

const MESH = fileURLToPath(new URL('../cli/mesh.js', import.meta.url))
const big = process.argv.includes('--1e17')
const ROWS = [
  { x: '1e13', pairs: 5 },
  { x: '1e15', pairs: 3 },
  ...(big ? [{ x: '1e17', pairs: 1 }] : [])
]
const SCALING_X = big ? '1e17' : '1e16'

function has (command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0
}

function timed (argv: string[]): { seconds: number, stdout: string } {
  const started = performance.now()
  const stdout = execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 1 << 20 })
  return { seconds: (performance.now() - started) / 1000, stdout: stdout.trim() }
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

const pin = (argv: string[]): string[] => has('taskset') ? ['taskset', '-c', '0', ...argv] : argv

if (!has('primecount')) {
  console.log('primecount is not on PATH (Debian: apt-get install primecount); nothing to compare against.')
  process.exit(0)
}
console.log(`${execFileSync('primecount', ['--version'], { encoding: 'utf8' }).split('\n')[0]}, node ${process.version}`)
console.log(`CPU: ${execFileSync('sh', ['-c', "lscpu | grep 'Model name' | sed 's/.*: *//'"], { encoding: 'utf8' }).trim()}; load before: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`)
console.log('\none pinned core: mesh primes count 0 X --local --workers 1 --method combinatorial vs primecount X -t1')
for (const row of ROWS) {
  const ours: number[] = []
  const theirs: number[] = []
  let counts = ''
  for (let i = 0; i < row.pairs; i++) {
    const a = timed(pin([process.execPath, MESH, 'primes', 'count', '0', row.x, '--local', '--workers', '1', '--method', 'combinatorial']))
    const b = timed(pin(['primecount', row.x, '-t1']))
    if (a.stdout !== b.stdout) throw new Error(`pi(${row.x}): ours ${a.stdout}, primecount ${b.stdout}`)
    counts = a.stdout
    ours.push(a.seconds)
    theirs.push(b.seconds)
  }
  const ratio = median(ours) / median(theirs)
  console.log(`  pi(${row.x}) = ${counts}: ours ${median(ours).toFixed(2)} s, primecount ${median(theirs).toFixed(2)} s, ratio ${ratio.toFixed(2)} (${row.pairs} pairs)`)
}

async function meshSeconds (peers: number): Promise<{ seconds: number, count: string }> {
  const nodes: MeshProcess[] = await startJobMesh(Array.from({ length: peers }, (_, i) => `p${i}`))
  try {
    const started = performance.now()
    for await (const event of streamFromNode(nodes[0].home, 'jobs.start', { from: '0', to: BigInt(Number(SCALING_X)).toString(), method: 'combinatorial' })) {
      if (event.type === 'done') return { seconds: (performance.now() - started) / 1000, count: event.report.count }
    }
    throw new Error('the job stream ended without a result')
  } finally {
    await Promise.all(nodes.map(async n => await n.destroy()))
  }
}

console.log(`\nmesh scaling: pi(${SCALING_X}) as a job, one worker per peer, loopback`)
const one: number[] = []
const two: number[] = []
for (let i = 0; i < 2; i++) {
  const a = await meshSeconds(1)
  const b = await meshSeconds(2)
  if (a.count !== b.count) throw new Error(`1 peer says ${a.count}, 2 peers say ${b.count}`)
  one.push(a.seconds)
  two.push(b.seconds)
}
console.log(`  1 peer ${median(one).toFixed(2)} s, 2 peers ${median(two).toFixed(2)} s (slower of 2 runs each), speed-up ${(median(one) / median(two)).toFixed(2)}`)
console.log(`load after: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`)
