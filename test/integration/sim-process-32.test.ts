import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MESH_BIN } from '../utils/mesh-process.ts'

/**
 * The process tier at a size a full mesh could not carry on one thread: 32 in-process nodes
 * (a partial mesh of 8 peers each, plaintext on the memory transport, shared signature
 * checks, a heartbeat dilated to 2 s) through one partition-halves cycle.
 */
describe('mesh sim, process tier, 32 nodes', () => {
  let out = ''

  beforeAll(async () => { out = await mkdtemp(join(tmpdir(), 'mesh-sim-proc32-test-')) })
  afterAll(async () => { await rm(out, { recursive: true, force: true }) })

  it('partition-halves on 32 nodes: a verdict, nothing lost or duplicated, exact counts, cuts that bit', async () => {
    const dir = join(out, 'halves32')
    const child = spawn(process.execPath, [MESH_BIN, 'sim', 'partition-halves', '--tier', 'process', '--nodes', '32', '--seed', '1', '--cycles', '1', '--json', '--out', dir], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const code = await new Promise(resolve => child.once('exit', resolve))
    expect(stdout, stderr).not.toBe('')
    const results = JSON.parse(stdout)
    expect(results.plan.nodes).toBe(32)
    // Time dilation: above 20 nodes the heartbeat, and every window and timeout with it, grows.
    expect(results.plan.heartbeatMs).toBe(2000)
    const chat = results.checkers.chat
    expect(chat.lost).toEqual({})
    expect(chat.duplicated).toEqual({})
    expect(chat.sentDuringFaults).toBeGreaterThan(0)
    expect(results.checkers.jobs.jobs.map((j: any) => j.count).sort()).toEqual(['316066', '664579'])
    // What does not depend on time holds whatever the machine's load: nothing lost, exact
    // counts, a cut that bit. The timing checkers must hold too unless the harness found the
    // nodes too slow to answer (a loaded machine), which makes the verdict unknown, never valid.
    for (const name of ['chat', 'jobs', 'vacuity']) expect(results.checkers[name].valid, `${name}: ${results.checkers[name].summary}`).toBe(true)
    const harness = results.checkers.harness
    console.info(`32 nodes: ${harness.summary}; membership: ${results.checkers.membership.summary}; rpc: ${results.checkers.rpc.summary}`)
    if (harness.valid === true) {
      for (const name of ['membership', 'rpc']) expect(results.checkers[name].valid, `${name}: ${results.checkers[name].summary}`).toBe(true)
      expect(results.checkers.membership.detection.partition.missed).toBe(0)
      expect(results.valid).toBe(true)
      expect(code, stderr).toBe(0)
    } else {
      expect(harness.valid).toBe('unknown')
      expect(results.valid).not.toBe(true)
      expect(code, stderr).toBe(1)
    }
  }, 240_000)
})
