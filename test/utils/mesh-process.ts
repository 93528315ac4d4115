import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { callNode } from '../../cli/control-client.ts'
import { sleep, waitUntil } from './wait.ts'

// Most tests that drive processes also wait on them: one import for both.
export { sleep, waitUntil } from './wait.ts'

export const MESH_BIN = fileURLToPath(new URL('../../cli/mesh.js', import.meta.url))

export interface MemberJson {
  id: string
  nick: string
  state: 'alive' | 'suspect' | 'dead' | 'left'
  lastSeenMs: number
  workers: { total: number, free: number }
  load: number
  services: string[]
  addrs: string[]
  roles: string[]
  stateForMs: number
}

export interface StartOptions {
  name: string
  home?: string
  bootstrap?: string[]
  args?: string[]
  /** Run the node through a wrapper, e.g. ['ip', 'netns', 'exec', 'ns1']. */
  prefix?: string[]
  env?: Record<string, string>
}

/** A real `mesh start` process, driven through its control socket. */
export class MeshProcess {
  readonly name: string
  readonly home: string
  readonly child: ChildProcess
  output = ''
  id = ''
  addrs: string[] = []
  private exited: Promise<number | null>

  private constructor (name: string, home: string, child: ChildProcess) {
    this.name = name
    this.home = home
    this.child = child
    child.stdout?.on('data', (d: Buffer) => { this.output += d.toString() })
    child.stderr?.on('data', (d: Buffer) => { this.output += d.toString() })
    this.exited = new Promise(resolve => child.once('exit', code => { resolve(code) }))
  }

  static async start (opts: StartOptions): Promise<MeshProcess> {
    const home = opts.home ?? await mkdtemp(join(tmpdir(), `mesh-${opts.name}-`))
    const args = [MESH_BIN, 'start', '--home', home, '--name', opts.name, ...(opts.args ?? ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0'])]
    for (const b of opts.bootstrap ?? []) args.push('--bootstrap', b)
    const [cmd, ...cmdArgs] = [...(opts.prefix ?? []), process.execPath, ...args]
    const child = spawn(cmd, cmdArgs, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } })
    const node = new MeshProcess(opts.name, home, child)
    await node.ready()
    return node
  }

  /** Waits until the control socket answers, then records the id and addresses. */
  private async ready (timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    let exitCode: number | null | undefined
    void this.exited.then(code => { exitCode = code })
    while (Date.now() < deadline) {
      if (exitCode !== undefined) throw new Error(`${this.name} exited with ${exitCode}: ${this.output}`)
      try {
        const id = await callNode(this.home, 'id')
        this.id = id.id
        this.addrs = id.addrs
        return
      } catch {
        await sleep(50)
      }
    }
    throw new Error(`${this.name} did not answer on its control socket within ${timeoutMs} ms: ${this.output}`)
  }

  /** An address to bootstrap from: the loopback one. */
  get bootstrapAddr (): string {
    return this.addrs.find(a => a.startsWith('/ip4/127.0.0.1/')) ?? this.addrs[0]
  }

  get pid (): number {
    return this.child.pid ?? -1
  }

  async peers (): Promise<{ self: string, members: MemberJson[] }> {
    return await callNode(this.home, 'peers')
  }

  async stateOf (id: string): Promise<MemberJson['state'] | undefined> {
    return (await this.peers()).members.find(m => m.id === id)?.state
  }

  signal (signal: NodeJS.Signals): void {
    this.child.kill(signal)
  }

  async waitForExit (timeoutMs = 10_000): Promise<number | null> {
    return await Promise.race([this.exited, sleep(timeoutMs).then(() => { throw new Error(`${this.name} did not exit within ${timeoutMs} ms`) })])
  }

  /** Stops the process whatever its state (also a SIGSTOPped one) and removes its home. */
  async destroy (keepHome = false): Promise<void> {
    if (this.child.exitCode == null && this.child.signalCode == null) {
      this.child.kill('SIGCONT')
      this.child.kill('SIGKILL')
      await this.exited
    }
    if (!keepHome) await rm(this.home, { recursive: true, force: true })
  }
}

/** Starts `n` nodes on loopback, the first one the bootstrap of the others. */
export async function startMesh (names: string[], extraArgs: string[] = []): Promise<MeshProcess[]> {
  const args = ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', ...extraArgs]
  const first = await MeshProcess.start({ name: names[0], args })
  const rest = await Promise.all(names.slice(1).map(async name => await MeshProcess.start({ name, args, bootstrap: [first.bootstrapAddr] })))
  return [first, ...rest]
}

/** True when `observer` shows `target` in `state`. */
export async function sees (observer: MeshProcess, target: MeshProcess, state: MemberJson['state']): Promise<boolean> {
  return (await observer.stateOf(target.id)) === state
}

/** The node's value of counter or gauge `name`, summed over the label sets that contain `match`. */
export async function counter (node: MeshProcess, name: string, match = ''): Promise<number> {
  const stats = await callNode(node.home, 'stats')
  const values: Record<string, number> = stats.metrics[name] ?? {}
  return Object.entries(values).filter(([labels]) => labels.includes(match)).reduce((sum, [, v]) => sum + v, 0)
}

/**
 * Waits until each of `observers` has received `n` more heartbeats than when called: proof
 * that heartbeat intervals went by in the observers' own event loops, which a sleep in the
 * test process does not give when the machine is busy.
 */
export async function waitForHeartbeats (observers: MeshProcess[], n: number, timeoutMs = 15_000): Promise<void> {
  const received = async (node: MeshProcess): Promise<number> => await counter(node, 'mesh_membership_received_total', 'type=heartbeat')
  const before = await Promise.all(observers.map(received))
  await waitUntil(`${observers.map(o => o.name).join(' and ')} to receive ${n} more heartbeats`, async () => {
    const now = await Promise.all(observers.map(received))
    return now.every((count, i) => count >= before[i] + n)
  }, timeoutMs, 100)
}
