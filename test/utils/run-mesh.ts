import { spawn } from 'node:child_process'
import { MESH_BIN } from './mesh-process.ts'

export interface MeshRun {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs one `mesh` CLI command to completion, as a user's shell would. */
export async function runMesh (args: string[], opts: { env?: Record<string, string>, input?: string, timeoutMs?: number } = {}): Promise<MeshRun> {
  const child = spawn(process.execPath, [MESH_BIN, ...args], { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  child.stdin.end(opts.input ?? '')
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000)
  const code = await new Promise<number | null>(resolve => child.once('exit', c => { resolve(c) }))
  clearTimeout(timer)
  return { code, stdout, stderr }
}
