// `npm run bench:primes`: our sieve against primesieve, side by side in one run.
// For pi(1e10) and [1e13, 1e13 + 1e10]: one warm-up, then 5 alternating pairs on one pinned
// core (ours on one thread vs `primesieve -t1`), then 5 pairs on all cores (ours with one
// worker per core vs `primesieve -tN`). Prints medians, the ratio ours / primesieve, and our
// peak RSS. Times are wall clock of each whole process (start-up included for both).
import { execFileSync, spawnSync } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'

const RUNNER = fileURLToPath(new URL('./primes-run.ts', import.meta.url))
const PAIRS = 5
const CASES = [
  { name: 'pi(1e10)', from: '0', to: '1e10', primesieve: ['1e10'] },
  { name: '[1e13, 1e13+1e10]', from: '1e13', to: '1e13+1e10', primesieve: ['1e13', '--dist=1e10'] }
]

function has (command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0
}

function timed (argv: string[]): { seconds: number, stdout: string } {
  const started = performance.now()
  const stdout = execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 1 << 20 })
  return { seconds: (performance.now() - started) / 1000, stdout }
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

function pinned (argv: string[], pin: boolean): string[] {
  return pin && has('taskset') ? ['taskset', '-c', '0', ...argv] : argv
}

if (!has('primesieve')) {
  console.log('primesieve is not on PATH (Debian: apt-get install primesieve); nothing to compare against.')
  process.exit(0)
}
const cores = availableParallelism()
console.log(`${execFileSync('primesieve', ['--version'], { encoding: 'utf8' }).split('\n')[0]}, node ${process.version}, ${cores} cores`)

for (const threads of [1, cores]) {
  const pin = threads === 1
  console.log(`\n${pin ? 'one pinned core (taskset -c 0): ours on 1 thread vs primesieve -t1' : `all cores: ours with ${threads} workers vs primesieve -t${threads}`}`)
  for (const c of CASES) {
    const ours = pinned([process.execPath, RUNNER, c.from, c.to, ...(pin ? [] : [String(threads)])], pin)
    const theirs = pinned(['primesieve', ...c.primesieve, `-t${threads}`, '-c1', '-q'], pin)
    timed(ours)
    timed(theirs)
    const ourTimes: number[] = []
    const theirTimes: number[] = []
    let rss = 0
    let counts = ''
    for (let i = 0; i < PAIRS; i++) {
      const a = timed(ours)
      const result = JSON.parse(a.stdout)
      ourTimes.push(a.seconds)
      rss = Math.max(rss, result.maxRssMb)
      const b = timed(theirs)
      theirTimes.push(b.seconds)
      counts = `${result.count} vs ${b.stdout.trim()}`
    }
    const ratio = median(ourTimes) / median(theirTimes)
    console.log(`  ${c.name.padEnd(20)} ours ${median(ourTimes).toFixed(3)} s  primesieve ${median(theirTimes).toFixed(3)} s  ratio ${ratio.toFixed(2)}  peak RSS ${rss.toFixed(0)} MB  (counts ${counts})`)
  }
}
