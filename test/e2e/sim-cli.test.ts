import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generatePlan } from '../../simulations/plan/scenarios.ts'
import { MESH_BIN } from '../utils/mesh-process.ts'

async function mesh (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, [MESH_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const code = await new Promise<number | null>(resolve => child.once('exit', c => { resolve(c) }))
  return { code, stdout, stderr }
}

/** `mesh sim` as a user meets it before any namespace is built: the list, and every misuse refused on one line. */
describe('mesh sim: list and arguments', () => {
  let dir: string
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'mesh-sim-cli-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('lists the ten scenarios, one line each, and as JSON', async () => {
    const text = await mesh(['sim', 'list'])
    expect(text.code).toBe(0)
    const names = text.stdout.trim().split('\n').map(l => l.split(/\s+/)[0])
    expect(names).toEqual(['partition-halves', 'isolate-one', 'bridge', 'majorities-ring', 'kill-restart', 'pause', 'flaky', 'slow', 'churn', 'mixed'])
    const json = JSON.parse((await mesh(['sim', 'list', '--json'])).stdout)
    expect(json.scenarios).toHaveLength(10)
    expect(json.scenarios[0]).toEqual({ name: 'partition-halves', describe: expect.stringContaining('two random halves') })
  })

  it('refuses an unknown scenario, a missing one, a bad seed and a bad plan file with one line and exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['sim', 'nope'], /^mesh: no scenario "nope"; mesh sim list shows them\n$/],
      [['sim'], /^mesh: name a scenario \(mesh sim list shows them\) or give --plan FILE\n$/],
      [['sim', 'pause', '--seed', 'x'], /--seed must be a whole number/],
      [['sim', 'pause', '--nodes', '1'], /^mesh: --nodes must be at least 2\n$/],
      [['sim', '--plan', join(dir, 'missing.json')], /^mesh: --plan: cannot read .*missing\.json: ENOENT\n$/]
    ]
    const bad = join(dir, 'bad.json')
    await writeFile(bad, JSON.stringify({ ...generatePlan('pause', { nodes: 3, seed: 1 }), faults: [{ at: 0, f: 'pause', nodes: [7] }] }))
    cases.push([['sim', '--plan', bad], /^mesh: --plan .*bad\.json: faults\[0\]\.nodes\[0\] must be a whole number from 0 to 2\n$/])
    for (const [args, message] of cases) {
      const run = await mesh(args)
      expect(run.code, args.join(' ')).toBe(2)
      expect(run.stderr).toMatch(message)
      expect(run.stdout).toBe('')
    }
  })

  it('the process tier refuses pause and netem faults before it starts a node: one line, exit 2', async () => {
    for (const scenario of ['pause', 'slow']) {
      const run = await mesh(['sim', scenario, '--tier', 'process', '--nodes', '3'])
      expect(run.code, scenario).toBe(2)
      expect(run.stderr).toMatch(new RegExp(`^mesh: ${scenario}: the process tier cannot apply (pause|netem) faults \\(its nodes share one process and have no network of their own\\); the netns tier can, as root\n$`))
      expect(run.stdout).toBe('')
    }
  })

  it('without root, mesh sim picks the process tier and says so on stderr', async () => {
    // As root (CI), the same command as the nobody user; setpriv drops the privileges.
    const asNobody = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : []
    const command = [...asNobody, process.execPath, MESH_BIN, 'sim', 'pause', '--nodes', '3']
    const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const code = await new Promise<number | null>(resolve => child.once('exit', c => { resolve(c) }))
    // The pick is announced, then the process tier refuses the scenario's pauses.
    expect(stderr.split('\n')[0]).toBe('mesh: not root, so the process tier (nodes in one process) instead of network namespaces')
    expect(stderr).toContain('the process tier cannot apply pause faults')
    expect(code).toBe(2)
  })
})
