import { readFileSync, readdirSync } from 'node:fs'

/** Clock ticks per second of /proc/PID/stat's CPU times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100
const PAGE_BYTES = 4096
/** How often the process tree is sampled: fine enough to catch a short-lived peak in RSS. */
export const SAMPLE_EVERY_MS = 100

export class NoSuchProcessError extends Error {
  override name = 'NoSuchProcessError'
}

interface ProcessSample { cpuTicks: number, memoryBytes: number }

/**
 * One process's own CPU ticks (user + system, all threads) and memory, or null if it is gone.
 * Memory is the proportional set size where the kernel gives it (smaps_rollup): pages shared
 * by forked children are split among them instead of counted in full by each, which would
 * report a hundred forked children as a hundred times the parent. Else the resident size.
 */
function readProcess (pid: number): ProcessSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // utime and stime are fields 14 and 15 (1-based), 11 and 12 after the name.
    const cpuTicks = Number(fields[11]) + Number(fields[12])
    return { cpuTicks, memoryBytes: readMemory(pid) }
  } catch {
    return null
  }
}

function readMemory (pid: number): number {
  try {
    const pss = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))
    if (pss != null) return Number(pss[1]) * 1024
  } catch {}
  return Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE_BYTES
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

/** The process and all its descendants (the fork and cluster models serve from children). */
function readTree (root: number): Map<number, ProcessSample> | null {
  const tree = new Map<number, ProcessSample>()
  const own = readProcess(root)
  if (own == null) return null
  tree.set(root, own)
  const stack = childrenOf(root)
  for (let guard = 0; stack.length > 0 && guard < 100_000; guard++) {
    const pid = stack.pop() as number
    const sample = readProcess(pid)
    if (sample == null || tree.has(pid)) continue
    tree.set(pid, sample)
    stack.push(...childrenOf(pid))
  }
  return tree
}

export interface ServerUsage { cpuPercent: number, peakRssMb: number }

/**
 * Samples a server's process tree from /proc while a load test runs. CPU is each process's
 * own time, summed over every process seen: a child's time counts even when nobody waits for
 * it (a parent that ignores SIGCHLD never collects it into its own children's time), and only
 * the CPU a child used after the last sample before it exited is missed (at most
 * SAMPLE_EVERY_MS of it): for a process per short connection the figure is a lower bound.
 * Memory is the tree's largest total in any sample.
 */
export class ProcUsageSampler {
  private readonly pid: number
  /** Per process: CPU ticks when first seen (0 for a process born during the run), and last seen. */
  private readonly ticks = new Map<number, { first: number, last: number }>()
  private startedAt = 0
  private peakBytes = 0
  private timer: NodeJS.Timeout | null = null

  constructor (pid: number) {
    this.pid = pid
  }

  start (): void {
    const first = readTree(this.pid)
    if (first == null) throw new NoSuchProcessError(`no process ${this.pid} to measure`)
    for (const [pid, sample] of first) this.ticks.set(pid, { first: sample.cpuTicks, last: sample.cpuTicks })
    this.peakBytes = sum(first)
    this.startedAt = performance.now()
    this.timer = setInterval(() => { this.sample() }, SAMPLE_EVERY_MS)
    this.timer.unref()
  }

  private sample (): void {
    const tree = readTree(this.pid)
    if (tree == null) return
    for (const [pid, sample] of tree) {
      const seen = this.ticks.get(pid)
      if (seen == null) this.ticks.set(pid, { first: 0, last: sample.cpuTicks })
      else seen.last = sample.cpuTicks
    }
    this.peakBytes = Math.max(this.peakBytes, sum(tree))
  }

  stop (): ServerUsage {
    if (this.timer != null) clearInterval(this.timer)
    this.timer = null
    this.sample()
    const seconds = (performance.now() - this.startedAt) / 1000
    let cpuTicks = 0
    for (const { first, last } of this.ticks.values()) cpuTicks += last - first
    const cpuSeconds = cpuTicks / TICKS_PER_SECOND
    return {
      cpuPercent: seconds > 0 ? Math.round(cpuSeconds / seconds * 1000) / 10 : 0,
      peakRssMb: Math.round(this.peakBytes / 1e5) / 10
    }
  }
}

function sum (tree: Map<number, ProcessSample>): number {
  let bytes = 0
  for (const sample of tree.values()) bytes += sample.memoryBytes
  return bytes
}
