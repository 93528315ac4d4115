import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MALLOC_MMAP_THRESHOLD } from '../../cli/malloc-tuning.js'
import { MESH_BIN, MeshProcess, sleep } from '../utils/mesh-process.ts'
import { poolThreads } from '../utils/threads.ts'

function rssMb (pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find(l => l.startsWith('VmRSS:'))
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024
}

/** What process `pid` was started with (its environment, as the kernel keeps it). */
function environOf (pid: number): string[] {
  return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')
}

/**
 * A node is light while it works too: `mesh start` starts over in place with glibc's malloc
 * set so that a busy worker thread's freed memory goes back to the system
 * (cli/malloc-tuning.js), and one busy worker adds at most 30 MB to the node, while its
 * counts stay exact.
 */
describe.runIf(process.platform === 'linux')('a node with one busy worker thread', () => {
  let node: MeshProcess
  beforeAll(async () => {
    node = await MeshProcess.start({ name: 'busy', args: ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--workers', '1'] })
  })
  afterAll(async () => { await node.destroy() })

  it('is the very process that was started, now with the malloc setting', () => {
    expect(environOf(node.pid)).toContain(`${MALLOC_MMAP_THRESHOLD.name}=${MALLOC_MMAP_THRESHOLD.value}`)
    // No thread yet: the pool starts one with its first task.
    expect(poolThreads(node.pid)).toBe(0)
  })

  it('counts pi(1e10) exactly on its worker while adding at most 30 MB', async () => {
    // The node's RSS just before the count, not after it has settled: anything the node
    // itself still allocates counts against the worker, so the bound can only be stricter.
    const before = rssMb(node.pid)
    const job = spawn(process.execPath, [MESH_BIN, 'primes', 'count', '1', '1e10', '--method', 'sieve', '--home', node.home, '--json'], { stdio: ['ignore', 'pipe', 'inherit'] })
    let stdout = ''
    job.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    let code: number | null | undefined
    job.once('exit', c => { code = c })
    let peak = before
    let threads = 0
    while (code === undefined) {
      peak = Math.max(peak, rssMb(node.pid))
      threads = Math.max(threads, poolThreads(node.pid))
      await sleep(20)
    }
    expect(code).toBe(0)
    const result = JSON.parse(stdout)
    expect(result).toMatchObject({ count: 455052511, method: 'sieve', peers: [{ id: node.id }] })
    expect(threads).toBe(1)
    expect(peak - before).toBeLessThanOrEqual(30)
  }, 120_000)
})
