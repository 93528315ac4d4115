// `npm run bench:startup`: how fast the CLI answers and how light a node is.
// - Wall time of `mesh --version`, `mesh id`, `mesh peers`, `mesh chat send` (against a node
//   running on loopback), median of 10, interleaved in one run with `node -e 0` (the floor: a
//   bare Node start) and with the sources (`MESH_FROM_SOURCES=1`: the TypeScript files one by
//   one, compile cache on) in place of the bundle `npm ci` builds in dist/.
// - Start-to-ready: from spawning `mesh start` until its control socket answers `id`, median
//   of 10, the bundle against the sources, alternately.
// - `mesh primes count 1 X --local --workers 1 --method sieve` on one pinned core (taskset -c 0)
//   against the sieve kernel called directly in a fresh process (bench/primes-run.js, countRange
//   on its main thread), alternately, medians of wall time and of CPU time (user + sys, from
//   /usr/bin/time when present): the difference is what the command's start-up, its worker
//   thread and its shards add. X = 1e3 shows the fixed part alone, X = 1e10 the whole.
// - RSS of an idle node with the default workers 10 s after start, and how many worker
//   threads it holds; then the extra RSS while one worker is busy (a node with --workers 1
//   counting primes), over that node's own idle RSS, against the same with glibc's malloc as
//   it comes (MESH_MALLOC_DEFAULTS=1), alternately (`--busy-runs N` pairs, default 3).
// `npm run bench:startup -- --only count,busy` runs some of these: cli, count, ready, idle, busy.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bundleIsFresh } from '../cli/bundle-freshness.js'
import { callNode } from '../cli/control-client.ts'
import { poolThreads } from '../test/utils/threads.ts'
import { sleep } from '../test/utils/wait.ts'

const MESH_JS = fileURLToPath(new URL('../cli/mesh.js', import.meta.url))
const KERNEL_RUN = fileURLToPath(new URL('./primes-run.js', import.meta.url))
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const RUNS = 10
const IDLE_SECONDS = 10
const LOOPBACK = ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0']

/** `mesh` as installed (the bundle, compile cache on), and the same launcher on the sources. */
const VARIANTS = {
  mesh: { entry: MESH_JS, env: { ...process.env, MESH_FROM_SOURCES: '0' } },
  sources: { entry: MESH_JS, env: { ...process.env, MESH_FROM_SOURCES: '1' } },
  // The bundle with glibc's malloc as it comes: `mesh start` does not start over with the
  // fixed mmap threshold (cli/malloc-tuning.js).
  mallocDefaults: { entry: MESH_JS, env: { ...process.env, MESH_FROM_SOURCES: '0', MESH_MALLOC_DEFAULTS: '1' } }
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

/** Wall time of one whole process, in ms; fails loudly if it did not succeed. */
function wallMs (argv: string[], env: NodeJS.ProcessEnv): number {
  const started = performance.now()
  const run = spawnSync(process.execPath, argv, { env, encoding: 'utf8' })
  const ms = performance.now() - started
  if (run.status !== 0) throw new Error(`${argv.join(' ')} exited ${run.status}: ${run.stderr}`)
  return ms
}

function rssMb (pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find(l => l.startsWith('VmRSS:'))
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024
}

const TIME = '/usr/bin/time'
const hasTaskset = spawnSync('sh', ['-c', 'command -v taskset']).status === 0

/** Wall and CPU seconds (user + sys; NaN without /usr/bin/time) of one process pinned to core 0. */
function pinnedRun (argv: string[], env: NodeJS.ProcessEnv, cpuFile: string): { wall: number, cpu: number } {
  const timed = existsSync(TIME) ? [TIME, '-f', '%U %S', '-o', cpuFile, ...argv] : argv
  const full = hasTaskset ? ['taskset', '-c', '0', ...timed] : timed
  const started = performance.now()
  const run = spawnSync(full[0], full.slice(1), { env, encoding: 'utf8' })
  const wall = (performance.now() - started) / 1000
  if (run.status !== 0) throw new Error(`${argv.join(' ')} exited ${run.status}: ${run.stderr}`)
  const cpu = existsSync(TIME) ? readFileSync(cpuFile, 'utf8').trim().split(/\s+/).map(Number).reduce((a, b) => a + b, 0) : Number.NaN
  return { wall, cpu }
}

interface StartedNode { child: ChildProcess, home: string, readyMs: number, exited: Promise<void> }

/** Spawns `mesh start` and resolves once its control socket answers; readyMs is from spawn to that answer. */
async function startNode (variant: keyof typeof VARIANTS, home: string, extra: string[] = []): Promise<StartedNode> {
  const { entry, env } = VARIANTS[variant]
  const started = performance.now()
  const child = spawn(process.execPath, [entry, 'start', '--home', home, '--name', 'bench', ...LOOPBACK, ...extra], { env, stdio: 'ignore' })
  const exited = new Promise<void>(resolve => child.once('exit', () => { resolve() }))
  let gone = false
  void exited.then(() => { gone = true })
  for (;;) {
    if (gone) throw new Error(`mesh start (${variant}) exited before it answered`)
    try {
      await callNode(home, 'id')
      return { child, home, readyMs: performance.now() - started, exited }
    } catch {
      await sleep(2)
    }
  }
}

async function stopNode (node: StartedNode): Promise<void> {
  node.child.kill('SIGTERM')
  await node.exited
}

const fmt = (ms: number): string => `${ms.toFixed(0)} ms`.padStart(8)
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`.padStart(8)

const load = (): string => loadavg().map(x => x.toFixed(2)).join(' ')
console.log(`${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, node ${process.version}, load ${load()}`)

// The bundle as `npm ci` leaves it: built now if a source changed since.
if (!bundleIsFresh(ROOT)) {
  const built = spawnSync(process.execPath, [join(ROOT, 'build/bundle.ts')], { stdio: 'inherit' })
  if (built.status !== 0) throw new Error('the bundle did not build')
}
/** The light commands' wall time, against one running node. */
async function cliSection (dir: string): Promise<void> {
  const target = await startNode('mesh', join(dir, 'target'))
  const commands: Array<{ name: string, args: string[] }> = [
    { name: 'mesh --version', args: ['--version'] },
    { name: 'mesh id', args: ['id', '--home', target.home] },
    { name: 'mesh peers', args: ['peers', '--home', target.home] },
    { name: 'mesh chat send', args: ['chat', 'send', '--home', target.home, 'bench'] }
  ]
  const floor: number[] = []
  const times = new Map(commands.map(c => [c.name, { mesh: [] as number[], sources: [] as number[] }]))
  // One warm-up each: fills the compile cache as any first run does.
  for (const c of commands) wallMs([MESH_JS, ...c.args], VARIANTS.mesh.env)
  for (let i = 0; i < RUNS; i++) {
    floor.push(wallMs(['-e', '0'], process.env))
    for (const c of commands) {
      const t = times.get(c.name)!
      t.mesh.push(wallMs([VARIANTS.mesh.entry, ...c.args], VARIANTS.mesh.env))
      t.sources.push(wallMs([VARIANTS.sources.entry, ...c.args], VARIANTS.sources.env))
    }
  }
  await stopNode(target)
  const floorMs = median(floor)
  console.log(`\nCLI wall time, median of ${RUNS} (target ≤ 100 ms for mesh)`)
  console.log(`${'command'.padEnd(16)}${'mesh'.padStart(8)}${'node -e 0'.padStart(11)}${'÷ node'.padStart(8)}${'sources'.padStart(10)}${'÷ mesh'.padStart(8)}`)
  for (const c of commands) {
    const t = times.get(c.name)!
    const mesh = median(t.mesh)
    const sources = median(t.sources)
    console.log(`${c.name.padEnd(16)}${fmt(mesh)}${fmt(floorMs).padStart(11)}${ratio(mesh, floorMs)}${fmt(sources).padStart(10)}${ratio(sources, mesh)}`)
  }

}

/** A local count as a user runs it, against the kernel alone. */
async function countSection (dir: string): Promise<void> {
  // Both with one compile cache, warmed by a first run, as any repeated use of either.
  const countEnv = { ...VARIANTS.mesh.env, NODE_COMPILE_CACHE: join(dir, 'compile-cache') }
  const cpuFile = join(dir, 'cpu')
  console.log(`\nmesh primes count 1 X --local --workers 1 --method sieve against the kernel in a fresh process, one pinned core${hasTaskset ? ' (taskset -c 0)' : ' (taskset missing: not pinned)'}; target: at most 0.2 s more`)
  console.log(`${'X'.padEnd(6)}${'runs'.padStart(5)}${'mesh wall'.padStart(11)}${'kernel wall'.padStart(13)}${'difference'.padStart(12)}${'mesh cpu'.padStart(10)}${'kernel cpu'.padStart(12)}${'difference'.padStart(12)}`)
  for (const [x, pairs] of [['1e3', RUNS], ['1e10', 5]] as const) {
    const mesh = [MESH_JS, 'primes', 'count', '1', x, '--local', '--workers', '1', '--method', 'sieve']
    const kernel = [KERNEL_RUN, '1', x]
    pinnedRun([process.execPath, ...mesh], countEnv, cpuFile)
    pinnedRun([process.execPath, ...kernel], countEnv, cpuFile)
    const ours = { wall: [] as number[], cpu: [] as number[] }
    const base = { wall: [] as number[], cpu: [] as number[] }
    for (let i = 0; i < pairs; i++) {
      for (const [argv, into] of [[mesh, ours], [kernel, base]] as const) {
        const r = pinnedRun([process.execPath, ...argv], countEnv, cpuFile)
        into.wall.push(r.wall)
        into.cpu.push(r.cpu)
      }
    }
    const s = (x: number): string => `${x.toFixed(3)} s`
    const d = (a: number, b: number): string => `${a >= b ? '+' : ''}${(a - b).toFixed(3)} s`
    const [ow, bw, oc, bc] = [ours.wall, base.wall, ours.cpu, base.cpu].map(median)
    console.log(`${x.padEnd(6)}${String(pairs).padStart(5)}${s(ow).padStart(11)}${s(bw).padStart(13)}${d(ow, bw).padStart(12)}${s(oc).padStart(10)}${s(bc).padStart(12)}${d(oc, bc).padStart(12)}`)
  }

}

/** `mesh start` until its control socket answers. */
async function readySection (dir: string): Promise<void> {
  const ready = { mesh: [] as number[], mallocDefaults: [] as number[], sources: [] as number[] }
  for (let i = 0; i < RUNS; i++) {
    for (const variant of ['mesh', 'mallocDefaults', 'sources'] as const) {
      const node = await startNode(variant, join(dir, `ready-${variant}`))
      ready[variant].push(node.readyMs)
      await stopNode(node)
    }
  }
  console.log(`\nmesh start until the control socket answers, median of ${RUNS} (target ≤ 400 ms)`)
  console.log(`mesh (bundle) ${fmt(median(ready.mesh))}   sources ${fmt(median(ready.sources))}   ratio ${ratio(median(ready.sources), median(ready.mesh))}`)
  console.log(`the bundle without the restart for glibc's malloc setting (MESH_MALLOC_DEFAULTS=1) ${fmt(median(ready.mallocDefaults))}`)

}

/** An idle node's RSS. */
async function idleSection (dir: string): Promise<void> {
  const idle = await startNode('mesh', join(dir, 'idle'))
  const idleSources = await startNode('sources', join(dir, 'idle-sources'))
  await sleep(IDLE_SECONDS * 1000 - idleSources.readyMs)
  const idleRss = rssMb(idle.child.pid!)
  const idleSourcesRss = rssMb(idleSources.child.pid!)
  const idleThreads = poolThreads(idle.child.pid!)
  const { workers } = await callNode(idle.home, 'stats')
  await stopNode(idle)
  await stopNode(idleSources)
  console.log(`\nidle node, default workers, ${IDLE_SECONDS} s after start (target ≤ 100 MB)`)
  console.log(`RSS ${idleRss.toFixed(1)} MB (sources ${idleSourcesRss.toFixed(1)} MB), worker threads running ${idleThreads}, advertised workers ${workers.free}/${workers.total} free`)

}

/** Runs of the busy section per variant (`--busy-runs N`). */
const BUSY_RUNS = process.argv.includes('--busy-runs') ? Number(process.argv[process.argv.indexOf('--busy-runs') + 1]) : 3

/** A node's RSS before and at its peak while its one worker thread counts [1e12, 1e12+1e10]. */
async function busyRun (variant: keyof typeof VARIANTS, home: string): Promise<{ before: number, peak: number, threadsSeen: number }> {
  const busy = await startNode(variant, home, ['--workers', '1'])
  await sleep(IDLE_SECONDS * 1000 - busy.readyMs)
  const before = rssMb(busy.child.pid!)
  const job = spawn(process.execPath, [MESH_JS, 'primes', 'count', '1e12', '1e12+1e10', '--method', 'sieve', '--home', busy.home, '--json'], { stdio: 'ignore' })
  const jobDone = new Promise<void>(resolve => job.once('exit', () => { resolve() }))
  let jobRunning = true
  void jobDone.then(() => { jobRunning = false })
  let peak = before
  let threadsSeen = 0
  while (jobRunning) {
    peak = Math.max(peak, rssMb(busy.child.pid!))
    threadsSeen = Math.max(threadsSeen, poolThreads(busy.child.pid!))
    await sleep(50)
  }
  await stopNode(busy)
  return { before, peak, threadsSeen }
}

/**
 * One busy worker's extra RSS, `mesh start` as installed against the same bundle with glibc's
 * malloc as it comes, alternately.
 */
async function busySection (dir: string): Promise<void> {
  console.log(`\none busy worker (--workers 1, counting [1e12, 1e12+1e10]), extra RSS over the node's idle RSS (target ≤ 30 MB)`)
  const extra = { mesh: [] as number[], mallocDefaults: [] as number[] }
  for (let i = 0; i < BUSY_RUNS; i++) {
    for (const variant of ['mesh', 'mallocDefaults'] as const) {
      const { before, peak, threadsSeen } = await busyRun(variant, join(dir, `busy-${variant}-${i}`))
      extra[variant].push(peak - before)
      console.log(`${variant === 'mesh' ? 'mesh' : 'glibc malloc defaults'}: idle ${before.toFixed(1)} MB, peak while busy ${peak.toFixed(1)} MB: +${(peak - before).toFixed(1)} MB (worker threads seen ${threadsSeen})`)
    }
  }
  const range = (xs: number[]): string => `median +${median(xs).toFixed(1)} MB (+${Math.min(...xs).toFixed(1)} to +${Math.max(...xs).toFixed(1)})`
  console.log(`mesh ${range(extra.mesh)}; with glibc malloc defaults ${range(extra.mallocDefaults)}`)
}

const SECTIONS = { cli: cliSection, count: countSection, ready: readySection, idle: idleSection, busy: busySection }
// `npm run bench:startup -- --only count,busy` runs those sections alone.
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1].split(',') : Object.keys(SECTIONS)
for (const name of only) if (!Object.hasOwn(SECTIONS, name)) throw new Error(`unknown section ${name}: ${Object.keys(SECTIONS).join(', ')}`)
const dir = await mkdtemp(join(tmpdir(), 'mesh-bench-startup-'))
try {
  for (const name of only) await SECTIONS[name as keyof typeof SECTIONS](dir)
  console.log(`\nload ${load()}`)
} finally {
  await rm(dir, { recursive: true, force: true })
}
