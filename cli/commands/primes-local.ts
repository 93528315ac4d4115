// What `mesh primes count --local` and `mesh primes list` run, loaded only by those commands.
import { countRangeParallel, formatPrimeBatch, primeBatches } from '../../node/compute/primes/index.ts'
import { bigintJson } from '../../protocols/json-bigint.ts'
import { availableParallelism } from 'node:os'
import { plural } from '../output.ts'
import type { SingleBar } from 'cli-progress'
import type { CountMethod } from './count-method.ts'

/** Show a progress bar only for work that is still running after this long. */
const PROGRESS_BAR_DELAY_MS = 400

export async function countLocally (from: bigint, to: bigint, opts: { json?: boolean, workers?: number, method?: CountMethod }): Promise<void> {
  const progress = new DelayedProgressBar()
  const method = opts.method ?? 'sieve'
  let result: { count: bigint, seconds: number, workerSeconds: number, shards: number }
  try {
    result = method === 'combinatorial'
      ? await countCombinatorial(from, to, opts.workers, progress)
      : await countRangeParallel(from, to, {
        workers: opts.workers,
        details: false,
        onProgress: (done, total) => { progress.update(done, total) }
      })
  } finally {
    progress.stop()
  }
  if (opts.json === true) {
    const seconds = round3(result.seconds)
    process.stdout.write(JSON.stringify({
      from: bigintJson(from),
      to: bigintJson(to),
      count: bigintJson(result.count),
      seconds,
      shards: result.shards,
      peers: [{ id: 'local', shards: result.shards, seconds: round3(result.workerSeconds) }],
      retries: 0,
      method
    }) + '\n')
  } else {
    // The sentence of the distributed form, with this machine's threads in place of peers.
    const threads = opts.workers ?? availableParallelism()
    process.stdout.write(`${plural(result.count, 'prime')} in [${from}, ${to}] · ${round3(result.seconds)} s · ` +
      `${plural(result.shards, 'shard')} on this machine (${plural(threads, 'worker thread')})\n`)
  }
}

/**
 * One thread asked for and a count this small (under half a second of one core here): it runs
 * on this thread, with no worker to start (about 40 ms of CPU, a sixth of pi(1e13)) and no
 * progress bar, which would not have shown before the answer anyway.
 */
const INLINE_BELOW = 10n ** 14n

/** pi(to) - pi(from - 1) on this machine's worker threads; progress over the hard leaves of both. */
async function countCombinatorial (from: bigint, to: bigint, workers: number | undefined, progress: DelayedProgressBar): Promise<{ count: bigint, seconds: number, workerSeconds: number, shards: number }> {
  if (workers === 1 && to < INLINE_BELOW) return await countCombinatorialHere(from, to)
  const { piOnPool } = await import('../../node/compute/pi/parallel-pi.ts')
  const { WorkerPool } = await import('../../node/compute/worker-pool.ts')
  const started = performance.now()
  const pool = new WorkerPool({ size: workers })
  try {
    const ends = from >= 2n ? [to, from - 1n] : [to]
    const done = ends.map(() => 0)
    const totals = ends.map(() => 0)
    const runs = await Promise.all(ends.map(async (x, i) => await piOnPool(x, {
      pool,
      onProgress: (d, t) => {
        done[i] = d
        totals[i] = t
        const sum = (v: number[]): number => v.reduce((a, b) => a + b, 0)
        progress.update(BigInt(sum(done)), BigInt(sum(totals)))
      }
    })))
    const count = runs.length === 2 ? runs[0].count - runs[1].count : runs[0].count
    return {
      count,
      seconds: (performance.now() - started) / 1000,
      workerSeconds: runs.reduce((a, r) => a + r.workerSeconds, 0),
      shards: runs.reduce((a, r) => a + r.shards, 0)
    }
  } finally {
    await pool.close()
  }
}

/** pi(to) - pi(from - 1) on this thread: one task, as the easy terms and the hard leaves together. */
async function countCombinatorialHere (from: bigint, to: bigint): Promise<{ count: bigint, seconds: number, workerSeconds: number, shards: number }> {
  const { piCombinatorial } = await import('../../node/compute/pi/pi-combinatorial.ts')
  const started = performance.now()
  const count = piCombinatorial(to) - (from >= 2n ? piCombinatorial(from - 1n) : 0n)
  const seconds = (performance.now() - started) / 1000
  return { count, seconds, workerSeconds: seconds, shards: 1 }
}

function round3 (x: number): number {
  return Math.round(x * 1000) / 1000
}

/**
 * A cli-progress bar on stderr, only on a terminal and only once the work lasts a while;
 * cli-progress loads only then (a piped or scripted count does not pay for it).
 */
class DelayedProgressBar {
  private bar: SingleBar | null = null
  private readonly started = Date.now()
  private readonly enabled = process.stderr.isTTY === true
  private cliProgress: typeof import('cli-progress') | null = null

  constructor () {
    if (this.enabled) void import('cli-progress').then((m) => { this.cliProgress = m.default })
  }

  update (done: bigint, total: bigint): void {
    if (!this.enabled || total === 0n) return
    const permille = Number(done * 1000n / total)
    if (this.bar == null) {
      const cliProgress = this.cliProgress
      if (cliProgress == null || Date.now() - this.started < PROGRESS_BAR_DELAY_MS) return
      this.bar = new cliProgress.SingleBar({
        stream: process.stderr,
        format: 'counting primes {bar} {percentage}% | ETA {eta_formatted}',
        hideCursor: true,
        clearOnComplete: true
      }, cliProgress.Presets.shades_classic)
      this.bar.start(1000, 0)
    }
    this.bar.update(permille)
  }

  stop (): void {
    this.bar?.stop()
    this.bar = null
  }
}

/**
 * Streams the primes to stdout batch by batch, waiting for the pipe to drain, so memory stays
 * bounded. When the reader goes away (`| head`), the write fails with EPIPE: stop quietly.
 */
export async function listToStdout (from: bigint, to: bigint): Promise<void> {
  const out = process.stdout
  let closed = false
  let failure: Error | null = null
  const onError = (err: NodeJS.ErrnoException): void => {
    closed = true
    if (err.code !== 'EPIPE') failure = err
  }
  out.on('error', onError)
  try {
    for (const batch of primeBatches(from, to)) {
      if (closed) break
      const ok = out.write(formatPrimeBatch(batch))
      // Yield to the event loop either way, so an EPIPE is seen before sieving on.
      await (ok ? new Promise(setImmediate) : waitForDrain(out))
    }
    if (!closed) await new Promise<void>((resolve) => { out.write('', () => { resolve() }) })
  } finally {
    out.off('error', onError)
    if (closed) out.on('error', () => {})
  }
  if (failure != null) throw failure
}

function waitForDrain (out: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      out.off('drain', done)
      out.off('error', done)
      out.off('close', done)
      resolve()
    }
    out.on('drain', done)
    out.on('error', done)
    out.on('close', done)
  })
}
