import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MeshProcess } from '../utils/mesh-process.ts'
import { runMesh } from '../utils/run-mesh.ts'

// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point
const ACTS_ON_TERMINAL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

/**
 * Answers and errors that come back from a peer carry whatever that peer put in them; at a
 * terminal, escape sequences must show as text, not clear the screen or retitle the window.
 */
describe('text from the network at a terminal', () => {
  let node: MeshProcess
  beforeAll(async () => { node = await MeshProcess.start({ name: 'alice' }) })
  afterAll(async () => { await node?.destroy() })

  it('a task\'s answer and a method\'s error show controls escaped; --json stays exact', async () => {
    const title = '\u001b]0;pwned\u0007'
    const task = await runMesh(['task', 'text', 'uppercase', `${title}hi`, '--home', node.home])
    expect(task.code, task.stderr).toBe(0)
    expect(task.stdout).not.toMatch(ACTS_ON_TERMINAL)
    expect(task.stdout).toContain('\\x1b]0;PWNED\\x07HI')

    const json = await runMesh(['task', 'text', 'uppercase', `${title}hi`, '--home', node.home, '--json'])
    expect(JSON.parse(json.stdout).result).toBe('\u001b]0;PWNED\u0007HI')

    // The remote error quotes the argument, with a C1 CSI (JSON.stringify leaves it raw).
    const call = await runMesh(['call', 'greeter.hello', '"\\u009b2J"', '--home', node.home])
    expect(call.code).toBe(1)
    expect(call.stderr.replace(/\n$/, '')).not.toMatch(ACTS_ON_TERMINAL)
    expect(call.stderr).toContain('\\x9b2J')
  })
})
