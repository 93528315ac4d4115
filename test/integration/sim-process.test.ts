import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromJsonLines } from '../../simulations/history/history.ts'
import { MESH_BIN, waitUntil } from '../utils/mesh-process.ts'

/**
 * `mesh sim` in its process tier, as a user runs it: real mesh nodes in the runner's own
 * process on libp2p's memory transport, partitions through connection gaters, no root needed.
 */

interface Run { code: number | null, stdout: string, stderr: string }

async function runMesh (args: string[]): Promise<Run> {
  const child = spawn(process.execPath, [MESH_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  return await new Promise(resolve => child.once('exit', code => { resolve({ code, stdout, stderr }) }))
}

/** The checkers that judge the mesh are all true; the harness may say the machine was too busy (unknown, exit 1). */
function expectValid (run: Run, results: any): void {
  for (const name of ['membership', 'chat', 'jobs', 'rpc', 'vacuity']) expect(results.checkers[name].valid, `${name}: ${results.checkers[name].summary}`).toBe(true)
  const harness = results.checkers.harness
  console.info(`harness: ${harness.summary}`)
  expect(results.valid).toBe(harness.valid === true ? true : 'unknown')
  expect(run.code, run.stderr).toBe(harness.valid === true ? 0 : 1)
}

/** The runner's pid, from the memory addresses in its script: every home it made carries it. */
async function runnerPid (dir: string): Promise<number> {
  return Number(/msim(\d+)-/.exec(await readFile(join(dir, 'commands.txt'), 'utf8'))?.[1])
}

describe('mesh sim, process tier', () => {
  let out = ''

  beforeAll(async () => { out = await mkdtemp(join(tmpdir(), 'mesh-sim-proc-test-')) })
  afterAll(async () => { await rm(out, { recursive: true, force: true }) })

  it('partition-halves on 8 in-process nodes: every checker true, nothing lost or duplicated, the report, nothing left behind', async () => {
    const dir = join(out, 'halves')
    const run = await runMesh(['sim', 'partition-halves', '--tier', 'process', '--nodes', '8', '--seed', '1', '--cycles', '1', '--json', '--out', dir])
    const results = JSON.parse(run.stdout)
    expectValid(run, results)
    expect(results.tier).toBe('process')
    expect(results.reproduce).toBe('mesh sim partition-halves --tier process --nodes 8 --seed 1 --cycles 1')
    const chat = results.checkers.chat
    expect(chat.lost).toEqual({})
    expect(chat.duplicated).toEqual({})
    // Messages were sent while the halves could not see each other, and reached the other half after.
    expect(chat.sentDuringFaults).toBeGreaterThan(0)
    // The gaters cut something: connections across the cut closed, dials across it refused.
    const window = results.checkers.vacuity.windows[0]
    expect(window.effect.closedConnections).toBeGreaterThan(0)
    expect(window.effect.refusedConnections).toBeGreaterThan(0)
    expect(results.checkers.membership.detection.partition.missed).toBe(0)
    // The light workload's counts, exact.
    expect(results.checkers.jobs.jobs.map((j: any) => j.count).sort()).toEqual(['316066', '664579'])
    expect(run.stderr).toMatch(/start: 8 nodes in this process/)

    const files = await readdir(dir)
    for (const f of ['results.json', 'history.jsonl', 'summary.md', 'timeline.svg', 'delivery.svg', 'latency.svg', 'plan.json', 'commands.txt']) expect(files).toContain(f)
    const history = fromJsonLines(await readFile(join(dir, 'history.jsonl'), 'utf8'))
    expect(history.filter(e => e.type === 'nemesis').map(e => (e as any).fault.f)).toEqual(['partition', 'heal'])
    expect(await readFile(join(dir, 'summary.md'), 'utf8')).toContain('8 nodes, process tier')
    // No temporary home is left.
    expect(existsSync(join(tmpdir(), `msim${await runnerPid(dir)}-proc-homes`))).toBe(false)
  }, 120_000)

  it('kill-restart: a node stopped without a leave is seen dead, comes back with its identity, and the chat is whole', async () => {
    const dir = join(out, 'kill')
    const run = await runMesh(['sim', 'kill-restart', '--tier', 'process', '--nodes', '4', '--seed', '1', '--cycles', '1', '--json', '--out', dir])
    const results = JSON.parse(run.stdout)
    expectValid(run, results)
    expect(results.checkers.chat.lost).toEqual({})
    expect(results.checkers.membership.detection.kill.missed).toBe(0)
    const history = fromJsonLines(await readFile(join(dir, 'history.jsonl'), 'utf8'))
    expect(history.filter(e => e.type === 'nemesis').map(e => (e as any).fault.f)).toEqual(['kill', 'restart'])
    expect(existsSync(join(tmpdir(), `msim${await runnerPid(dir)}-proc-homes`))).toBe(false)
  }, 120_000)

  it('a runner killed with SIGKILL leaves its node homes, which the next run or mesh sim clean removes', async () => {
    const child = spawn(process.execPath, [MESH_BIN, 'sim', 'isolate-one', '--tier', 'process', '--nodes', '3', '--seed', '1', '--cycles', '3', '--out', join(out, 'killed')], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const exited = new Promise(resolve => child.once('exit', resolve))
    await waitUntil('the runner to start its workload', () => stderr.includes('warmup'), 60_000, 100)
    const homes = join(tmpdir(), `msim${child.pid}-proc-homes`)
    expect((await readdir(homes)).sort()).toEqual(['n0', 'n1', 'n2'])
    child.kill('SIGKILL')
    await exited
    // A SIGKILLed runner cannot clean up: its homes are still there, and the reaper removes them.
    expect(existsSync(homes)).toBe(true)
    const clean = await runMesh(['sim', 'clean', '--json'])
    expect(clean.code, clean.stderr).toBe(0)
    expect(JSON.parse(clean.stdout).folders).toContain(`msim${child.pid}-proc-homes`)
    expect(existsSync(homes)).toBe(false)
  }, 90_000)
})
