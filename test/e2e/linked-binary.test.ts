import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MeshProcess } from '../utils/mesh-process.ts'

const run = promisify(execFile)
const CHECKOUT = fileURLToPath(new URL('../..', import.meta.url))

/**
 * `mesh` on the PATH, as the README says to put it there (`npm install -g` from the checkout),
 * run from another directory with the machine's own Node first on the PATH (on these
 * machines Node 20, older than the project needs): the launcher must still run the CLI.
 */
describe('the mesh binary installed from the checkout', () => {
  let prefix = ''
  let node: MeshProcess
  // The PATH of a user's shell: not the checkout's node_modules/.bin that npm adds for tests.
  const userPath = (process.env.PATH ?? '').split(delimiter).filter(p => !p.includes('node_modules')).join(delimiter)

  beforeAll(async () => {
    prefix = await mkdtemp(join(tmpdir(), 'mesh-global-'))
    await run('npm', ['install', '-g', '--prefix', prefix, CHECKOUT], { env: { ...process.env, PATH: userPath } })
    node = await MeshProcess.start({ name: 'alice' })
  })
  afterAll(async () => {
    await node?.destroy()
    await rm(prefix, { recursive: true, force: true })
  })

  it('runs from another directory with the machine\'s own Node on the PATH', async () => {
    const env = { ...process.env, PATH: [join(prefix, 'bin'), userPath].join(delimiter) }
    const version = await run('mesh', ['--version'], { env, cwd: tmpdir() })
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
    const peers = await run('mesh', ['peers', '--json', '--home', node.home], { env, cwd: tmpdir() })
    expect(JSON.parse(peers.stdout).self).toBe(node.id)
  })
})
