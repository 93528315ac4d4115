import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MESH_BIN, startMesh, type MeshProcess } from '../utils/mesh-process.ts'

const MODULE_LOG_HOOK = fileURLToPath(new URL('../utils/module-log.ts', import.meta.url))

/** What a command's process loaded, with its exit code and output. */
async function runTraced (args: string[], dir: string): Promise<{ code: number | null, stdout: string, modules: string[] }> {
  const log = join(dir, `modules-${Math.random().toString(36).slice(2)}.txt`)
  const child = spawn(process.execPath, ['--import', MODULE_LOG_HOOK, MESH_BIN, ...args], {
    env: { ...process.env, MESH_MODULE_LOG: log },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  let stdout = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  const code = await new Promise<number | null>(resolve => child.once('exit', c => { resolve(c) }))
  const modules = (await readFile(log, 'utf8')).split('\n').filter(line => line !== '')
  return { code, stdout, modules }
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
