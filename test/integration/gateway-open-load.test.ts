import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { buildCGenerator } from '../../bench/gateway-open-loop.ts'
import { sleep } from '../utils/wait.ts'

const execFileAsync = promisify(execFile)

/**
 * A line server in a child process (so that it can be stopped with SIGSTOP): one `ANSWER`
 * line per request line; it prints its port, then `started` once it has had 20 requests.
 */
const LINE_SERVER = `
const net = require('node:net')
let seen = 0
const server = net.createServer({ noDelay: true }, socket => {
  let pending = ''
  socket.on('error', () => {})
  socket.on('data', chunk => {
    pending += chunk
    for (let i = pending.indexOf('\\n'); i >= 0; i = pending.indexOf('\\n')) {
      pending = pending.slice(i + 1)
      socket.write(process.env.ANSWER + '\\n')
      if (++seen === 20) console.log('started')
    }
  })
})
server.listen(0, '127.0.0.1', () => { console.log(server.address().port) })
`

interface LineServer { child: ChildProcess, port: number, started: Promise<void> }

async function lineServer (answer: string): Promise<LineServer> {
  const child = spawn(process.execPath, ['-e', LINE_SERVER], { env: { ...process.env, ANSWER: answer }, stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
  const first = await lines.next()
  if (first.done === true) throw new Error('the line server exited before listening')
  const started = (async () => { await lines.next() })()
  return { child, port: Number(first.value), started }
}

/**
 * The C open-loop generator behind the gateway bench's verdict (bench/gateway-open-load.c),
 * against a line server whose stalls are known: its figures must charge every request a
 * stall held up, from when the request was due, and leave the warm-up out.
 */
describe('the C open-loop generator', () => {
  let dir: string
  let binary: string
  let server: LineServer | null = null
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mesh-open-load-'))
    binary = buildCGenerator(dir)
  })
  afterAll(() => { rmSync(dir, { recursive: true, force: true }) })
  afterEach(() => { server?.child.kill('SIGKILL'); server = null })

  /** A real pause: the server process is stopped for (at least) `ms`. */
  const stall = async (s: LineServer, ms: number): Promise<void> => {
    s.child.kill('SIGSTOP')
    await sleep(ms)
    s.child.kill('SIGCONT')
  }

  const run = async (port: number, args: { clients: number, rate: number, seconds: number, warmup: number }): Promise<any> => {
    const { stdout } = await execFileAsync(binary, ['127.0.0.1', String(port), String(args.clients), String(args.rate), String(args.seconds), String(args.warmup), 'prime 104729'])
    return JSON.parse(stdout)
  }

  it('a 1 s stall of the server: every request it held up is charged from when it was due', async () => {
    server = await lineServer('{"ok":true}')
    const s = server
    const report = run(s.port, { clients: 10, rate: 200, seconds: 3, warmup: 0 })
    await s.started
    await stall(s, 1000)
    const r = await report
    expect(r.sent).toBe(600)
    expect(r.messages).toBe(600)
    expect(r.errors).toEqual({ wrong_reply: 0, reset: 0, overflow: 0, unanswered: 0 })
    // The open loop went on writing through the stall: ~200 requests were due in it, the
    // first waiting the whole second. The top 1% (6) are those due in its first 30 ms.
    expect(r.latencyUs.max).toBeGreaterThanOrEqual(994_000)
    expect(r.latencyUs.p99).toBeGreaterThanOrEqual(960_000)
    expect(r.latencyUs.p90).toBeGreaterThanOrEqual(300_000)
    expect(r.warmup.messages).toBe(0)
  })

  it('a stall in the warm-up: answered and counted apart, in none of the run\'s figures', async () => {
    server = await lineServer('{"ok":true}')
    const s = server
    const report = run(s.port, { clients: 5, rate: 200, seconds: 1, warmup: 1.5 })
    await s.started
    await stall(s, 500)
    const r = await report
    expect(r.warmup.messages).toBe(300)
    expect(r.warmup.errors).toBe(0)
    expect(r.sent).toBe(200)
    expect(r.messages).toBe(200)
    // The 500 ms stall is over well before the run's first request is due.
    expect(r.latencyUs.max).toBeLessThan(250_000)
  })

  it('answers that are not {"ok":true: each a wrong reply, none a latency', async () => {
    server = await lineServer('{"ok":false,"error":"busy"}')
    const r = await run(server.port, { clients: 2, rate: 100, seconds: 0.5, warmup: 0 })
    expect(r.sent).toBe(50)
    expect(r.messages).toBe(0)
    expect(r.errors.wrong_reply).toBe(50)
    expect(r.latencyUs.p99).toBe(0)
  })
})
