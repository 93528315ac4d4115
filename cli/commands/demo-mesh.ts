import { spawn, type ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { callNode } from '../control-client.ts'
import { WorkFailedError } from '../errors.ts'
import { checkoutFile } from '../../node/script-entry.ts'

const MESH_BIN = fileURLToPath(checkoutFile('cli/mesh.js'))
/** A node's control socket answers within this after its process starts, or the demo gives up. */
const START_TIMEOUT_MS = 30_000
/** A node asked to leave (SIGTERM) has this long before it is killed. */
const STOP_TIMEOUT_MS = 10_000
/** What a node said on stderr last: shown if it fails to start. */
const STDERR_TAIL_BYTES = 2048

export interface DemoNode {
  nick: string
  home: string
  child: ChildProcess
  id: string
  /** Its loopback address, /p2p/ID included: the others bootstrap from the first one's. */
  addr: string
  exited: Promise<void>
  stderr: string
}

/**
 * N `mesh start` processes on loopback, each with its own home under one temporary folder.
 * Each runs in a process group of its own, so the terminal's Ctrl-C reaches the demo only,
 * which then lets every node leave cleanly. `stop` ends them all and removes the folder;
 * if the demo itself exits any other way, what is still running is killed and the folder
 * removed on the way out.
 */
export class DemoMesh {
  readonly base: string
  readonly nodes: DemoNode[] = []
  private stopped = false

  private constructor (base: string) {
    this.base = base
    process.once('exit', this.onExit)
  }

  static async create (): Promise<DemoMesh> {
    return new DemoMesh(await mkdtemp(join(tmpdir(), 'mesh-demo-')))
  }

  /** Starts a node and waits until its control socket answers. */
  async start (nick: string, args: string[]): Promise<DemoNode> {
    const home = join(this.base, nick)
    await mkdir(home, { mode: 0o700 })
    const child = spawn(process.execPath, [MESH_BIN, 'start', '--home', home, '--name', nick, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true
    })
    const node: DemoNode = { nick, home, child, id: '', addr: '', stderr: '', exited: new Promise(resolve => { child.once('exit', () => { resolve() }) }) }
    child.stderr?.setEncoding('utf8')
    child.stderr?.on('data', (text: string) => { node.stderr = (node.stderr + text).slice(-STDERR_TAIL_BYTES) })
    this.nodes.push(node)
    const deadline = Date.now() + START_TIMEOUT_MS
    while (Date.now() < deadline) {
      if (child.exitCode != null || child.signalCode != null) break
      try {
        const id = await callNode<{ id: string, addrs: string[] }>(home, 'id')
        node.id = id.id
        node.addr = id.addrs.find(a => a.startsWith('/ip4/127.0.0.1/')) ?? id.addrs[0]
        return node
      } catch {
        await new Promise(resolve => setTimeout(resolve, 100))
      }
    }
    const said = node.stderr.trim().split('\n').at(-1) ?? ''
    throw new WorkFailedError(`node ${nick} did not start${said !== '' ? `: ${said}` : ''}`)
  }

  running (): DemoNode[] {
    return this.nodes.filter(n => n.child.exitCode == null && n.child.signalCode == null)
  }

  /** Every node leaves (SIGTERM: peers see "left"), or is killed after STOP_TIMEOUT_MS; then the homes go. */
  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    await Promise.all(this.running().map(async node => {
      node.child.kill('SIGTERM')
      const timer = setTimeout(() => { node.child.kill('SIGKILL') }, STOP_TIMEOUT_MS)
      await node.exited
      clearTimeout(timer)
    }))
    await rm(this.base, { recursive: true, force: true })
    process.off('exit', this.onExit)
  }

  /** The demo is exiting without `stop` (an error, a second Ctrl-C): nothing may stay behind. */
  private readonly onExit = (): void => {
    for (const node of this.running()) node.child.kill('SIGKILL')
    rmSync(this.base, { recursive: true, force: true })
  }
}
