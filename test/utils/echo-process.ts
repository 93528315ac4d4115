import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { MESH_BIN } from './mesh-process.ts'
import { runMesh, type MeshRun } from './run-mesh.ts'

/**
 * Open files a test child may hold: 1,000 clients and their server need two sockets per
 * connection in all, so the children get this limit through `prlimit`, not the machine.
 */
export const TEST_FD_LIMIT = 8192

/** Runs a command with a raised open-file limit (prlimit execs it: same pid). */
function withFdLimit (args: string[]): [string, string[]] {
  return ['prlimit', [`--nofile=${TEST_FD_LIMIT}:${TEST_FD_LIMIT}`, '--', process.execPath, MESH_BIN, ...args]]
}

/** A `mesh echo --json` child: its address and pid, and its counters when stopped. */
export class EchoProcess {
  readonly child: ChildProcess
  readonly port: number
  readonly pid: number
  private readonly lines: AsyncIterator<string>

  private constructor (child: ChildProcess, lines: AsyncIterator<string>, port: number) {
    this.child = child
    this.lines = lines
    this.port = port
    this.pid = child.pid as number
  }

  static async start (model: string, workers = 2): Promise<EchoProcess> {
    const [cmd, args] = withFdLimit(['echo', '--port', '0', '--model', model, '--workers', String(workers), '--json'])
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] })
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
    const first = await lines.next()
    if (first.done === true) throw new Error(`mesh echo --model ${model} exited before listening`)
    const listening = JSON.parse(first.value)
    return new EchoProcess(child, lines, listening.port)
  }

  /** SIGTERM, then the `stopped` JSON line with the counters. */
  async stop (): Promise<Record<string, number>> {
    const exited = new Promise<number | null>(resolve => { this.child.once('exit', code => { resolve(code) }) })
    this.child.kill('SIGTERM')
    const next = await this.lines.next()
    const code = await exited
    if (code !== 0) throw new Error(`mesh echo exited with ${code}`)
    return JSON.parse(next.value)
  }

  kill (): void {
    if (this.child.exitCode == null) this.child.kill('SIGKILL')
  }
}

/** `mesh loadtest … --json` with a raised open-file limit; the parsed report and exit code. */
export async function runLoadTest (args: string[], timeoutMs = 60_000): Promise<{ code: number | null, report: any, run: MeshRun }> {
  const [cmd, full] = withFdLimit(['loadtest', ...args, '--json'])
  const child = spawn(cmd, full, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const code = await new Promise<number | null>(resolve => child.once('exit', c => { resolve(c) }))
  clearTimeout(timer)
  let report: any = null
  try { report = JSON.parse(stdout) } catch {}
  return { code, report, run: { code, stdout, stderr } }
}

export { runMesh }
