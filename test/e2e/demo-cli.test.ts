import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { MESH_BIN, waitUntil } from '../utils/mesh-process.ts'
import { runMesh } from '../utils/run-mesh.ts'

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function steps (stdout: string): Array<Record<string, any>> {
  return stdout.trim().split('\n').map(line => JSON.parse(line))
}

/** `mesh demo` as a newcomer runs it: the whole story, then nothing left running or on disk. */
describe('mesh demo', () => {
  it('--nodes 3 --exit runs every step, counts exactly, and leaves no process and no home behind', async () => {
    const { code, stdout, stderr } = await runMesh(['demo', '--nodes', '3', '--exit', '--json'], { timeoutMs: 150_000 })
    expect(code, stderr).toBe(0)
    const out = steps(stdout)
    expect(out.map(s => s.step).filter(s => s !== 'progress')).toEqual(['begin', 'started', 'found', 'chat', 'count', 'killed', 'dead', 'counted', 'dashboard', 'stopped'])
    const started = out.find(s => s.step === 'started')!
    expect(started.nodes.map((n: any) => n.nick)).toEqual(['ada', 'bob', 'cy'])
    expect(started.dashboard).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    expect(out.find(s => s.step === 'chat')!.messages.map((m: any) => m.text)).toEqual(['hello from ada', 'hi ada, bob here'])
    const killed = out.find(s => s.step === 'killed')!
    expect(killed.nick).toBe('cy')
    // The kill lands in the middle of the count, where its shards in flight are taken over,
    // not as the count ends (a count too short for its progress to show a quarter pass).
    expect(killed.fraction).toBeLessThan(0.75)
    const counted = out.find(s => s.step === 'counted')!
    expect(counted).toMatchObject({ count: '455052511', exact: true })
    expect(counted.reassigned).toBeGreaterThan(0)
    for (const node of started.nodes) expect(alive(node.pid), node.nick).toBe(false)
    expect(existsSync(out[0].base)).toBe(false)
  }, 180_000)

  it('Ctrl-C in the middle of the count also stops every node and removes the homes', async () => {
    const child = spawn(process.execPath, [MESH_BIN, 'demo', '--nodes', '3', '--no-http', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    const exited = new Promise<number | null>(resolve => child.once('exit', code => { resolve(code) }))
    try {
      await waitUntil('the count to start', () => stdout.includes('"step":"count"'), 150_000, 100)
      child.kill('SIGINT')
      expect(await exited).toBe(0)
      const out = steps(stdout)
      expect(out.map(s => s.step)).toContain('stopped')
      expect(out.map(s => s.step)).not.toContain('counted')
      for (const node of out.find(s => s.step === 'started')!.nodes) expect(alive(node.pid), node.nick).toBe(false)
      expect(existsSync(out[0].base)).toBe(false)
    } finally {
      child.kill('SIGKILL')
    }
  }, 180_000)

  it('refuses a mesh too small or too large to show, in one line, with exit 2', async () => {
    for (const n of ['1', '13', 'x']) {
      const { code, stdout, stderr } = await runMesh(['demo', '--nodes', n, '--exit'])
      expect(code, n).toBe(2)
      expect(stdout).toBe('')
      expect(stderr.trim().split('\n'), n).toHaveLength(1)
      expect(stderr).toMatch(/--nodes must be a whole number from 2 to 12/)
    }
  })

  it('keeps the mesh up until Ctrl-C, which stops every node and removes the homes; --no-http serves no dashboard', async () => {
    const child = spawn(process.execPath, [MESH_BIN, 'demo', '--nodes', '2', '--no-http', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const exited = new Promise<number | null>(resolve => child.once('exit', code => { resolve(code) }))
    try {
      await waitUntil('the demo to finish its steps', () => stdout.includes('"step":"running"'), 150_000, 200)
      const started = steps(stdout).find(s => s.step === 'started')!
      expect(started.dashboard).toBeNull()
      // The mesh is up: the surviving node still runs after the last step.
      expect(alive(started.nodes[0].pid)).toBe(true)
      child.kill('SIGINT')
      expect(await exited, stderr).toBe(0)
      expect(steps(stdout).at(-1)!.step).toBe('stopped')
      for (const node of started.nodes) expect(alive(node.pid), node.nick).toBe(false)
      expect(existsSync(steps(stdout)[0].base)).toBe(false)
    } finally {
      child.kill('SIGKILL')
    }
  }, 180_000)
})
