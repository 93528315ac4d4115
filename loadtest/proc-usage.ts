import { readFileSync, readdirSync } from 'node:fs'

/** Clock ticks per second of /proc/PID/stat's CPU times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100
const PAGE_BYTES = 4096
/** How often the process tree is sampled: fine enough to catch a short-lived peak in RSS. */
export const SAMPLE_EVERY_MS = 100

export class NoSuchProcessError extends Error {
  override name = 'NoSuchProcessError'
}

interface TreeSample { cpuTicks: number, rssBytes: number }

/** CPU ticks (own and reaped children's) and resident bytes of one process, or null if gone. */
function readProcess (pid: number): TreeSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // utime, stime, cutime, cstime are fields 14-17 (1-based), 11-14 after the name.
    const cpuTicks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])
    const rssPages = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1])
    return { cpuTicks, rssBytes: rssPages * PAGE_BYTES }
  } catch {
    return null
  }
}

function childrenOf (pid: number): number[] {
  const out: number[] = []
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim()
      if (text !== '') for (const child of text.split(' ')) out.push(Number(child))
    }
  } catch {}
  return out
}

/**
 * The CPU time and memory of a process and all its descendants (the fork and cluster models
 * serve from children). A child's CPU moves into its parent's cutime when it is reaped, so
 * the sum over the live tree never counts a process twice and never loses a finished one.
 */
function readTree (root: number): TreeSample | null {
  const own = readProcess(root)
  if (own == null) return null
  const total = { ...own }
  const stack = childrenOf(root)
  for (let guard = 0; stack.length > 0 && guard < 100_000; guard++) {
    const pid = stack.pop() as number
    const sample = readProcess(pid)
    if (sample == null) continue
    total.cpuTicks += sample.cpuTicks
    total.rssBytes += sample.rssBytes
    stack.push(...childrenOf(pid))
  }
  return total
}

export interface ServerUsage { cpuPercent: number, peakRssMb: number }

/** Samples a server's process tree from /proc while a load test runs. */
export class ProcUsageSampler {
  private readonly pid: number
  private startTicks = 0
  private startedAt = 0
  private lastTicks = 0
  private peakRss = 0
  private timer: NodeJS.Timeout | null = null

  constructor (pid: number) {
    this.pid = pid
  }

  start (): void {
    const first = readTree(this.pid)
    if (first == null) throw new NoSuchProcessError(`no process ${this.pid} to measure`)
    this.startTicks = first.cpuTicks
    this.lastTicks = first.cpuTicks
    this.peakRss = first.rssBytes
    this.startedAt = performance.now()
    this.timer = setInterval(() => { this.sample() }, SAMPLE_EVERY_MS)
    this.timer.unref()
  }

  private sample (): void {
    const now = readTree(this.pid)
    if (now == null) return
    this.lastTicks = now.cpuTicks
    if (now.rssBytes > this.peakRss) this.peakRss = now.rssBytes
  }

  stop (): ServerUsage {
    if (this.timer != null) clearInterval(this.timer)
    this.timer = null
    this.sample()
    const seconds = (performance.now() - this.startedAt) / 1000
    const cpuSeconds = (this.lastTicks - this.startTicks) / TICKS_PER_SECOND
    return {
      cpuPercent: seconds > 0 ? Math.round(cpuSeconds / seconds * 1000) / 10 : 0,
      peakRssMb: Math.round(this.peakRss / 1e5) / 10
    }
  }
}
