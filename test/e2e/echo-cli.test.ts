import { createServer, type Server } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EchoProcess, runLoadTest } from '../utils/echo-process.ts'
import { runMesh } from '../utils/run-mesh.ts'

const oneLine = (text: string): void => { expect(text.trim().split('\n')).toHaveLength(1) }

describe('mesh echo and mesh loadtest from the command line', () => {
  let busy: Server
  let busyPort: number
  beforeAll(async () => {
    busy = createServer()
    await new Promise<void>(resolve => busy.listen(0, '127.0.0.1', resolve))
    busyPort = (busy.address() as { port: number }).port
  })
  afterAll(async () => { await new Promise(resolve => busy.close(resolve)) })

  it.each(['event', 'fork', 'cluster', 'threads'])('a busy port, --model %s: one line, exit 1', async (model) => {
    const run = await runMesh(['echo', '--port', String(busyPort), '--model', model, '--workers', '2'])
    expect(run.code).toBe(1)
    oneLine(run.stderr)
    expect(run.stderr).toContain(`port ${busyPort}`)
    expect(run.stdout).toBe('')
  })

  it.each([
    [['echo']],
    [['echo', '--port', '70000']],
    [['echo', '--port', 'x']],
    [['echo', '--port', '0', '--model', 'coroutines']],
    [['echo', '--port', '0', '--workers', '0']],
    [['loadtest']],
    [['loadtest', 'localhost']],
    [['loadtest', '127.0.0.1:0']],
    [['loadtest', '127.0.0.1:7100', '--clients', '0']],
    [['loadtest', '127.0.0.1:7100', '--size', '0']],
    [['loadtest', '127.0.0.1:7100', '--size', '9-3']],
    [['loadtest', '127.0.0.1:7100', '--duration', '-1']],
    [['loadtest', '127.0.0.1:7100', '--protocol', 'http']],
    [['loadtest', '127.0.0.1:7100', '--pid', '4194303']],
    [['loadtest', '127.0.0.1:7100', '--warmup', '-1']],
    [['loadtest', '127.0.0.1:7100', '--warmup', 'soon']],
    [['loadtest', '127.0.0.1:7100', '--spread', '--warmup', '2']],
    [['loadtest', '--study', '--warmup', '1']]
  ])('misuse %j: one line on stderr, exit 2', async (args) => {
    const run = await runMesh(args)
    expect(run.code).toBe(2)
    oneLine(run.stderr)
    expect(run.stdout).toBe('')
  })

  it('1,000 concurrent clients against the event model: every answer right, no error', async () => {
    const server = await EchoProcess.start('event')
    try {
      const { code, report } = await runLoadTest([`127.0.0.1:${server.port}`, '--clients', '1000', '--messages', '5', '--size', '64', '--pid', String(server.pid)], 120_000)
      expect(code).toBe(0)
      expect(report.clients).toBe(1000)
      expect(report.messages).toBe(5000)
      expect(Object.values(report.errors).every(n => n === 0)).toBe(true)
      expect(report.server.peakRssMb).toBeGreaterThan(0)
      const counters = await server.stop()
      expect(counters.connections).toBe(1000)
      expect(counters.peakConnections).toBeGreaterThan(1)
      expect(counters.bytesOut).toBe(1000 * 5 * 64)
    } finally {
      server.kill()
    }
  })

  it('--connect-rate spaces the connections: 20 at 100/s take at least 0.19 s', async () => {
    const server = await EchoProcess.start('event')
    try {
      const { report } = await runLoadTest([`127.0.0.1:${server.port}`, '--clients', '20', '--messages', '3', '--connect-rate', '100'])
      expect(report.messages).toBe(60)
      expect(report.seconds).toBeGreaterThanOrEqual(0.19)
    } finally {
      server.kill()
    }
  })

  it('the --json report has the contract shape', async () => {
    const server = await EchoProcess.start('threads')
    try {
      const { report } = await runLoadTest([`127.0.0.1:${server.port}`, '--clients', '4', '--messages', '3', '--pid', String(server.pid)])
      expect(Object.keys(report)).toEqual(expect.arrayContaining(['clients', 'messages', 'seconds', 'rps', 'errors', 'latencyUs', 'server']))
      expect(Object.keys(report.latencyUs).sort()).toEqual(['max', 'p50', 'p90', 'p99', 'p999'])
      expect(Object.keys(report.server).sort()).toEqual(['cpuPercent', 'peakRssMb'])
      expect(report.messages).toBe(12)
    } finally {
      server.kill()
    }
  })
})
