// `npm run bench:primes`: our sieve against primesieve, side by side in one run.
// One pinned core (taskset -c 0), alternately, medians of whole-process wall time:
// - pi(1e10) as a user runs it: `mesh primes count 1 1e10 --local --workers 1 --method sieve`
//   (the bundle `npm ci` builds, made fresh first) against `primesieve 1e10 -t1`;
// - [1e13, 1e13+1e10], [1e17, 1e17+2e8] and [2^64-1e10, 2^64-1]: countRange on one thread
//   (bench/primes-run.js) against `primesieve FROM TO -t1`.
// Then all cores: ours with one worker per core against `primesieve -tN` on pi(1e10) and
// [1e13, 1e13+1e10]. Prints medians, the ratio ours / primesieve and our peak RSS.
import { execFileSync, spawnSync } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'

const RUNNER = fileURLToPath(new URL('./primes-run.js', import.meta.url))
const MESH = fileURLToPath(new URL('../cli/mesh.js', import.meta.url))
const BUNDLE = fileURLToPath(new URL('../build/bundle.ts', import.meta.url))
const PAIRS = 5
const TOP = (1n << 64n) - 1n

interface Case {
  name: string
  from: string
  to: string
  /** Through the `mesh` command (one core only) instead of bench/primes-run.js. */
  cli?: boolean
  /** Fewer pairs and no warm-up for the long ones (primesieve alone takes ~35 s near 2^64). */
  pairs?: number
  /** One pinned core, all cores, or both. */
  modes: ('one core' | 'all cores')[]
}

const CASES: Case[] = [
  { name: 'pi(1e10)', from: '1', to: '1e10', cli: true, modes: ['one core'] },
  { name: 'pi(1e10)', from: '0', to: '1e10', modes: ['all cores'] },
  { name: '[1e13, 1e13+1e10]', from: '1e13', to: '1e13+1e10', modes: ['one core', 'all cores'] },
  { name: '[1e17, 1e17+2e8]', from: '1e17', to: '1e17+2e8', modes: ['one core'] },
  { name: '[2^64-1e10, 2^64-1]', from: String(TOP - 10n ** 10n), to: String(TOP), pairs: 3, modes: ['one core'] }
]

function has (command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0
}

const HAS_GNU_TIME = has('/usr/bin/time')

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

function pinned (argv: string[], pin: boolean): string[] {
  return pin && has('taskset') ? ['taskset', '-c', '0', ...argv] : argv
}

/** Wall time of a whole process, and its peak RSS in MB when GNU time is there to tell. */
function timed (argv: string[]): { seconds: number, stdout: string, rssMb: number | null } {
  const time = HAS_GNU_TIME ? ['/usr/bin/time', '-f', '%M'] : []
  const command = [...time, ...argv]
  const started = performance.now()
  const result = spawnSync(command[0], command.slice(1), { encoding: 'utf8', maxBuffer: 1 << 20 })
  const seconds = (performance.now() - started) / 1000
  if (result.status !== 0) throw new Error(`${argv.join(' ')} failed: ${result.stderr}`)
  const kb = time.length > 0 ? Number(result.stderr.trim().split('\n').at(-1)) : NaN
  return { seconds, stdout: result.stdout, rssMb: Number.isFinite(kb) ? kb / 1024 : null }
}

if (!has('primesieve')) {
  console.log('primesieve is not on PATH (Debian: apt-get install primesieve); nothing to compare against.')
  process.exit(0)
}
const cores = availableParallelism()
console.log(`${execFileSync('primesieve', ['--version'], { encoding: 'utf8' }).split('\n')[0]}, node ${process.version}, ${cores} cores`)

function primesieveArgs (c: Case): string[] {
  return c.from === '0' || c.from === '1' ? [c.to] : [c.from, c.to]
}

/** Our command line for a case: the CLI, or the runner (WORKERS omitted: this thread). */
function ourArgs (c: Case, threads: number, pin: boolean): string[] {
  if (c.cli === true) return [process.execPath, MESH, 'primes', 'count', c.from, c.to, '--local', '--workers', '1', '--method', 'sieve', '--json']
  return [process.execPath, RUNNER, c.from, c.to, ...(pin ? [] : [String(threads)])]
}

// The command as a user runs it starts from the bundle that `npm ci` builds.
execFileSync(process.execPath, [BUNDLE], { stdio: 'ignore' })

for (const threads of [1, cores]) {
  const pin = threads === 1
  console.log(`\n${pin ? 'one pinned core (taskset -c 0): ours on 1 thread vs primesieve -t1' : `all cores: ours with ${threads} workers vs primesieve -t${threads}`}`)
  for (const c of CASES) {
    if (!c.modes.includes(pin ? 'one core' : 'all cores')) continue
    const ours = pinned(ourArgs(c, threads, pin), pin)
    const theirs = pinned(['primesieve', ...primesieveArgs(c), `-t${threads}`, '-c1', '-q'], pin)
    const pairs = c.pairs ?? PAIRS
    if (c.pairs == null) {
      timed(ours)
      timed(theirs)
    }
    const ourTimes: number[] = []
    const theirTimes: number[] = []
    let rss = 0
    let counts = ''
    for (let i = 0; i < pairs; i++) {
      const a = timed(ours)
      const result = JSON.parse(a.stdout)
      ourTimes.push(a.seconds)
      rss = Math.max(rss, a.rssMb ?? result.maxRssMb ?? 0)
      const b = timed(theirs)
      theirTimes.push(b.seconds)
      counts = `${result.count} vs ${b.stdout.trim()}`
    }
    const ratio = median(ourTimes) / median(theirTimes)
    const label = c.cli === true ? `${c.name} (mesh CLI)` : c.name
    console.log(`  ${label.padEnd(26)} ours ${median(ourTimes).toFixed(3)} s  primesieve ${median(theirTimes).toFixed(3)} s  ratio ${ratio.toFixed(2)}  peak RSS ${rss.toFixed(0)} MB  (counts ${counts}, ${pairs} pairs)`)
  }
}
