import { spawn, spawnSync } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MESH_BIN, startMesh, type MeshProcess } from '../utils/mesh-process.ts'
import { bundleIsFresh } from '../../cli/bundle-freshness.js'

const CHECKOUT = fileURLToPath(new URL('../..', import.meta.url))

const MODULE_LOG_HOOK = fileURLToPath(new URL('../utils/module-log.ts', import.meta.url))

/** What a command's process loaded (`workers`: what each of its worker threads loaded), with its exit code and output. */
async function runTraced (args: string[], dir: string, from: 'sources' | 'launcher' = 'sources'): Promise<{ code: number | null, stdout: string, modules: string[], workers: string[][] }> {
  const log = join(dir, `modules-${Math.random().toString(36).slice(2)}.txt`)
  const child = spawn(process.execPath, ['--import', MODULE_LOG_HOOK, MESH_BIN, ...args], {
    // What the sources import, module by module (the bundle would hide it in its chunks).
    env: { ...process.env, MESH_MODULE_LOG: log, ...(from === 'sources' ? { MESH_FROM_SOURCES: '1' } : {}) },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  let stdout = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  const code = await new Promise<number | null>(resolve => child.once('exit', c => { resolve(c) }))
  const lines = async (file: string): Promise<string[]> => (await readFile(file, 'utf8')).split('\n').filter(line => line !== '')
  const threadLogs = (await readdir(dir)).filter(name => name.startsWith(`${log.slice(dir.length + 1)}.thread-`))
  const workers = await Promise.all(threadLogs.map(async name => await lines(join(dir, name))))
  return { code, stdout, modules: await lines(log), workers }
}

/** libp2p, its transports and crypto, or the node's own assembly. */
const NODE_ONLY = /\/node_modules\/(?:libp2p|@libp2p\/[^/]+|@chainsafe\/[^/]+|@noble\/[^/]+)\/|\/node\/mesh-node\.ts$|\/node\/compute\/primes\/segmented-sieve\.ts$/

/**
 * The commands people call in loops (`mesh peers`, `mesh id`, `mesh chat send`, `--version`)
 * answer fast because they load commander, the control client and the formatting only: not
 * libp2p, not the node, not the sieve. Checked on what the process really loaded.
 */
describe('light CLI commands', () => {
  let node: MeshProcess
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mesh-light-'))
    ;[node] = await startMesh(['alice'])
  })
  afterAll(async () => {
    await node.destroy()
    await rm(dir, { recursive: true, force: true })
  })

  it.each([
    [['--version']],
    [['id', '--json']],
    [['peers']],
    [['chat', 'send', 'hello from a light command']]
  ])('mesh %j answers without loading libp2p or the node', async (args) => {
    const run = await runTraced(args[0] === '--version' ? args : [...args, '--home', node.home], dir)
    expect(run.code).toBe(0)
    if (args[0] === 'id') expect(JSON.parse(run.stdout).id).toBe(node.id)
    if (args[0] === 'peers') expect(run.stdout).toContain('alice (you)')
    expect(run.modules.some(url => url.includes('/node_modules/commander/'))).toBe(true)
    expect(run.modules.filter(url => NODE_ONLY.test(url))).toEqual([])
  })

  it('the trace sees libp2p where a command does load it (swarm-key)', async () => {
    const run = await runTraced(['swarm-key', join(dir, 'swarm.key')], dir)
    expect(run.code).toBe(0)
    expect(run.modules.some(url => NODE_ONLY.test(url))).toBe(true)
  })
})

/**
 * What a sieve task needs in its thread: the pool's entry and task table, and the sieve (with
 * the WebAssembly binary encoder its kernels are emitted through).
 */
const SIEVE_WORKER_MODULE = /\/node\/compute\/(?:worker-entry\.ts|worker-tasks\.ts|isqrt\.ts|primes\/[\w-]+\.ts|wasm\/wasm-binary\.ts)$/

/**
 * A worker thread carries its own copy of every module it imports (a busy worker's memory is
 * one of a node's costs): one that only counts primes on the sieve loads the sieve, not the
 * combinatorial pi(x) code, not libp2p, not the CLI.
 */
describe('a sieve worker thread', () => {
  let dir: string
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'mesh-worker-modules-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('loads the sieve and nothing else of the project or its packages', async () => {
    const run = await runTraced(['primes', 'count', '1', '1e7', '--local', '--workers', '1', '--method', 'sieve'], dir)
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^664579 primes in \[1, 10000000\] /)
    expect(run.workers).toHaveLength(1)
    const [loaded] = run.workers
    expect(loaded.some(url => url.endsWith('/node/compute/primes/segmented-sieve.ts'))).toBe(true)
    expect(loaded.filter(url => !url.startsWith('node:') && !SIEVE_WORKER_MODULE.test(url))).toEqual([])
  })

  it('the trace sees what a worker loads beyond the sieve (the combinatorial count)', async () => {
    // Two workers: with one, a count this small runs on the command's own thread.
    const run = await runTraced(['primes', 'count', '1', '1e7', '--local', '--workers', '2', '--method', 'combinatorial'], dir)
    expect(run.code).toBe(0)
    expect(run.workers.flat().filter(url => !url.startsWith('node:') && !SIEVE_WORKER_MODULE.test(url)).some(url => url.includes('/node/compute/pi/'))).toBe(true)
  })

  it('is not started for a combinatorial count on one worker below 1e14: the command computes it itself', async () => {
    const run = await runTraced(['primes', 'count', '1e9', '1e12', '--local', '--workers', '1', '--method', 'combinatorial', '--json'], dir)
    expect(run.code).toBe(0)
    // pi(1e12) - pi(1e9 - 1), primecount's values.
    expect(JSON.parse(run.stdout)).toMatchObject({ count: 37607912018 - 50847534, method: 'combinatorial', shards: 1 })
    expect(run.workers).toEqual([])
  })
})

/**
 * The bundle `npm ci` builds (dist/) is what `mesh` runs while it is fresh: a node started
 * from it works, worker threads included; with a source newer than it, the sources run.
 */
describe('the bundle', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mesh-bundle-'))
    if (!bundleIsFresh(CHECKOUT)) {
      const built = spawnSync(process.execPath, [join(CHECKOUT, 'build/bundle.ts')], { encoding: 'utf8' })
      expect(built.status, built.stderr).toBe(0)
    }
  }, 120_000)
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('runs while fresh, and counts on its own worker threads', async () => {
    const run = await runTraced(['primes', 'count', '1', '1e7', '--local', '--workers', '2'], dir, 'launcher')
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^664579 primes in \[1, 10000000\] /)
    expect(run.modules.some(url => url.endsWith('/dist/run.js'))).toBe(true)
    expect(run.modules.some(url => url.endsWith('/cli/run.ts'))).toBe(false)
  })

  it('starts a node that others see and answer', async () => {
    const [node] = await startMesh(['bundled'])
    try {
      const peers = await runTraced(['peers', '--json', '--home', node.home], dir, 'launcher')
      expect(JSON.parse(peers.stdout).members[0].nick).toBe('bundled')
      expect(peers.modules.some(url => url.endsWith('/dist/run.js'))).toBe(true)
    } finally {
      await node.destroy()
    }
  })

  it('gives way to the sources when asked (MESH_FROM_SOURCES=1)', async () => {
    const run = await runTraced(['--version'], dir, 'sources')
    expect(run.modules.some(url => url.endsWith('/cli/run.ts'))).toBe(true)
    expect(run.modules.some(url => url.includes('/dist/'))).toBe(false)
  })
})
