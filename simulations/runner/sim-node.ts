import { spawn, type ChildProcess } from 'node:child_process'
import { openSync, closeSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { checkoutFile } from '../../node/script-entry.ts'
import { callNode } from './control-call.ts'

const MESH_BIN = fileURLToPath(checkoutFile('cli/mesh.js'))
/** Starting a node on a loaded two-core machine takes seconds; give it room. */
const READY_TIMEOUT_MS = 60_000

export interface SimNodeOptions {
  index: number
  netns: string
  home: string
  /** The node's log (stdout and stderr), appended to across restarts. */
  logFile: string
  heartbeatMs: number
}

/**
 * One real `mesh start` in a host's namespace (mDNS on, no bootstrap), driven through its
 * control socket. `ip netns exec` execs the node, so the child's pid is the node's and
 * SIGSTOP/SIGKILL reach it directly. Its output goes to a file, not a pipe, so a node that
 * outlives a killed runner never blocks on a full pipe before the reaper comes.
 */
export class SimNode {
  readonly opts: SimNodeOptions
  child?: ChildProcess
  peerId = ''
  /** SIGSTOPped now, and how many times so far: a read that spans a pause measures the pause, not the node. */
  stopped = false
  stops = 0
  private exited: Promise<void> = Promise.resolve()

  constructor (opts: SimNodeOptions) {
    this.opts = opts
  }

  get name (): string {
    return `n${this.opts.index}`
  }

  get running (): boolean {
    return this.child != null && this.child.exitCode == null && this.child.signalCode == null
  }

  async start (): Promise<void> {
    const { netns, home, logFile, heartbeatMs } = this.opts
    const out = openSync(logFile, 'a')
    const args = ['netns', 'exec', netns, process.execPath, MESH_BIN, 'start', '--home', home, '--name', this.name,
      '--listen', '/ip4/0.0.0.0/tcp/0', '--workers', '1', '--heartbeat', String(heartbeatMs)]
    const child = spawn('ip', args, { stdio: ['ignore', out, out], env: { ...process.env, DEBUG: '' } })
    closeSync(out)
    this.child = child
    this.exited = new Promise(resolve => child.once('exit', () => { resolve() }))
    const deadline = Date.now() + READY_TIMEOUT_MS
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited while starting; see ${logFile}`)
      try {
        this.peerId = (await callNode(home, 'id', {}, 2000)).id
        return
      } catch {
        await new Promise(resolve => setTimeout(resolve, 100))
      }
    }
    throw new Error(`${this.name} did not answer on its control socket within ${READY_TIMEOUT_MS} ms; see ${logFile}`)
  }

  signal (signal: NodeJS.Signals): void {
    if (!this.running) return
    this.child?.kill(signal)
    if (signal === 'SIGSTOP') { this.stopped = true; this.stops++ }
    if (signal === 'SIGCONT') this.stopped = false
  }

  /** SIGKILL (woken first if stopped), and wait until it is gone. */
  async kill (): Promise<void> {
    this.signal('SIGCONT')
    this.signal('SIGKILL')
    await this.exited
  }

  /** A clean leave (SIGTERM: peers see "left"); SIGKILL if it takes more than `timeoutMs`. */
  async leave (timeoutMs = 10_000): Promise<void> {
    this.signal('SIGTERM')
    const timer = setTimeout(() => { this.signal('SIGKILL') }, timeoutMs)
    await this.exited
    clearTimeout(timer)
  }
}
