import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { QUICK_LOADS } from '../../loadtest/study.ts'
import { MESH_BIN } from '../utils/mesh-process.ts'
import { runMesh } from '../utils/run-mesh.ts'
import { waitUntil } from '../utils/wait.ts'

const ERROR_KINDS = ['refused', 'reset', 'timeout', 'wrong_echo', 'wrong_reply', 'closed', 'other']

/**
 * Processes that carry `mark` in their environment: the study's servers, the fork model's
 * children and the cluster's workers all inherit it, so none can hide from this scan, and
 * other runs' servers on the same machine are not counted.
 */
function processesMarked (mark: string): Array<{ pid: number, cmd: string }> {
  const found: Array<{ pid: number, cmd: string }> = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    try {
      if (!readFileSync(`/proc/${entry}/environ`, 'utf8').includes(`MESH_STUDY_TEST_MARK=${mark}`)) continue
      found.push({ pid: Number(entry), cmd: readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ') })
    } catch {}
  }
  return found
}

function startStudy (args: string[], mark: string) {
  const child = spawn(process.execPath, [MESH_BIN, 'loadtest', '--study', ...args], { env: { ...process.env, MESH_STUDY_TEST_MARK: mark }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const timer = setTimeout(() => child.kill('SIGKILL'), 50_000)
  const exited = new Promise<{ code: number | null, stdout: string, stderr: string }>(resolve => {
    child.once('exit', code => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
  return { child, exited }
}

/** Marks handed out by this file: a failed test's leftovers are stopped after it. */
const marks: string[] = []
function newMark (): string {
  const mark = randomUUID()
  marks.push(mark)
  return mark
}

describe('mesh loadtest --study', () => {
  afterEach(() => {
    for (const mark of marks.splice(0)) {
      for (const p of processesMarked(mark)) { try { process.kill(p.pid, 'SIGKILL') } catch {} }
    }
  })

  it('--quick --models event,threads --json: every cell answered every message, no errors, nothing left running', async () => {
    const mark = newMark()
    const { code, stdout, stderr } = await startStudy(['--quick', '--models', 'event,threads', '--json'], mark).exited
    expect(stderr).toBe('')
    expect(code).toBe(0)
    const report = JSON.parse(stdout)
    expect(report.quick).toBe(true)
    expect(report.messageBytes).toBe(32)
    expect(report.loads.map((l: any) => [l.clients, l.messages])).toEqual(QUICK_LOADS.map(l => [l.clients, l.messages]))
    expect(report.models.map((m: any) => m.model)).toEqual(['event', 'threads'])
    for (const { model, cells } of report.models) {
      expect(cells.map((c: any) => [c.clients, c.messages])).toEqual(QUICK_LOADS.map(l => [l.clients, l.messages]))
      for (const c of cells) {
        const where = `${model} ${c.clients} x ${c.messages}`
        expect(c.skipped, where).toBeNull()
        expect(c.answered, where).toBe(c.clients * c.messages)
        expect(c.sent, where).toBe(c.clients * c.messages)
        expect(Object.keys(c.errors).sort(), where).toEqual([...ERROR_KINDS].sort())
        expect(Object.values(c.errors).every(n => n === 0), where).toBe(true)
        expect(c.rps, where).toBeGreaterThan(0)
        expect(c.latencyUs.p99, where).toBeGreaterThanOrEqual(c.latencyUs.p50)
        expect(c.cpuPercent, where).toBeGreaterThanOrEqual(0)
        expect(c.peakRssMb, where).toBeGreaterThan(0)
      }
    }
    // 100 x 10 is one of the study's own loads: its figure for one event loop stands beside ours.
    const event100 = report.models[0].cells.find((c: any) => c.clients === 100 && c.messages === 10)
    expect(event100.study).toEqual({ rps: 2778, approximate: false })
    expect(processesMarked(mark)).toEqual([])
  })

  it('Ctrl-C in the middle of the fork model: exit 130, the server and its children stopped', async () => {
    const mark = newMark()
    const { child, exited } = startStudy(['--quick', '--models', 'fork'], mark)
    // A fork child serving a connection: the study is under way.
    await waitUntil('a fork child of the study', () => processesMarked(mark).some(p => p.cmd.includes('fork-child')), 30_000)
    child.kill('SIGINT')
    const { code } = await exited
    expect(code).toBe(130)
    expect(processesMarked(mark)).toEqual([])
  })

  it.each([
    [['loadtest', '--study', '127.0.0.1:7100']],
    [['loadtest', '--study', '--models', 'event,coroutines']],
    [['loadtest', '--study', '--models', ',']],
    [['loadtest', '--study', '--clients', '10']],
    [['loadtest', '--quick']],
    [['loadtest', '127.0.0.1:7100', '--models', 'event']]
  ])('misuse %j: one line on stderr, exit 2', async (args) => {
    const run = await runMesh(args)
    expect(run.code).toBe(2)
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
    expect(run.stdout).toBe('')
  })
})
