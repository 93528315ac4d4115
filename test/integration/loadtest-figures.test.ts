import { readdirSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { EchoProcess, runLoadTest } from '../utils/echo-process.ts'
import { closedPort, coldLineServer, corruptingServer, delayingServer, lineServer, resettingServer, silentServer, type KnownServer } from '../utils/known-servers.ts'
import { runMesh } from '../utils/run-mesh.ts'
import { sleep, waitUntil } from '../utils/wait.ts'

function openFds (pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length
}

/**
 * `mesh loadtest` against servers whose behaviour is known: its figures must say exactly
 * what the server did. The known servers run in this process; the generator is the real CLI.
 */
describe('mesh loadtest figures', () => {
  let server: KnownServer | null = null
  afterEach(async () => { await server?.close(); server = null })

  const target = (port: number): string => `127.0.0.1:${port}`

  it('a fixed 20 ms delay per answer: every percentile lands on 20 ms', async () => {
    server = await delayingServer(20, 32)
    const { code, report } = await runLoadTest([target(server.port), '--clients', '10', '--messages', '20', '--size', '32'])
    expect(code).toBe(0)
    expect(report.messages).toBe(200)
    expect(report.sent).toBe(200)
    expect(Object.values(report.errors).every(n => n === 0)).toBe(true)
    // HDR keeps three significant digits: nothing can read below 20 ms less 0.1%. Above it
    // only the server's timer lateness and loopback add: a few ms, more on a loaded machine,
    // hence a loose upper bound that still tells 20 ms from a doubled or a missed delay.
    for (const p of ['p50', 'p90', 'p99'] as const) expect(report.latencyUs[p]).toBeGreaterThanOrEqual(20_000 * 0.999)
    expect(report.latencyUs.p50).toBeLessThan(38_000)
    // The generator reports its own event-loop delay (sampled every 1 ms, so at least that).
    const lag = report.generatorDelayUs
    expect(lag.p50).toBeGreaterThanOrEqual(900)
    expect(lag.p99).toBeGreaterThanOrEqual(lag.p50)
    expect(lag.max).toBeGreaterThanOrEqual(lag.p99)
  })

  it('a server that resets after 3 messages: 3 answers and one reset per client', async () => {
    server = await resettingServer(3, 32)
    const { code, report } = await runLoadTest([target(server.port), '--clients', '12', '--messages', '10', '--size', '32'])
    expect(code).toBe(0)
    expect(report.messages).toBe(36)
    expect(report.sent).toBe(48)
    expect(report.errors).toEqual({ refused: 0, reset: 12, timeout: 0, wrong_echo: 0, wrong_reply: 0, closed: 0, other: 0 })
  })

  it('a server that never answers: one timeout per client, no answer, exit 1', async () => {
    server = await silentServer()
    const { code, report } = await runLoadTest([target(server.port), '--clients', '7', '--messages', '5', '--timeout', '0.5'])
    expect(code).toBe(1)
    expect(report.messages).toBe(0)
    expect(report.sent).toBe(7)
    expect(report.errors.timeout).toBe(7)
    expect(report.errors.reset + report.errors.closed + report.errors.other).toBe(0)
  })

  it('nothing listening: every connection refused', async () => {
    const port = await closedPort()
    const { code, report } = await runLoadTest([target(port), '--clients', '9', '--messages', '5'])
    expect(code).toBe(1)
    expect(report.errors.refused).toBe(9)
    expect(report.sent).toBe(0)
  })

  it('an echo with a changed byte: one wrong echo per client', async () => {
    server = await corruptingServer()
    const { report } = await runLoadTest([target(server.port), '--clients', '5', '--messages', '5'])
    expect(report.errors.wrong_echo).toBe(5)
    expect(report.messages).toBe(0)
  })

  it('--protocol gateway: request lines out, one JSON line back each; a refusal is a wrong reply', async () => {
    const seen: string[] = []
    server = await lineServer(request => {
      seen.push(request)
      return seen.length <= 20 ? JSON.stringify({ ok: true, n: '104729', is_prime: true }) : JSON.stringify({ ok: false, error: 'busy' })
    })
    const { report } = await runLoadTest([target(server.port), '--protocol', 'gateway', '--clients', '2', '--messages', '20', '--request', 'prime 104729'])
    expect(report.messages).toBe(20)
    expect(report.errors.wrong_reply).toBe(2)
    expect(new Set(seen)).toEqual(new Set(['prime 104729']))
  })

  it('a 1 s stall under a fixed rate: the open loop charges it to every message held up', async () => {
    const echo = await EchoProcess.start('event')
    try {
      const idleFds = openFds(echo.pid)
      // No warm-up: the stall below is timed from the first connections.
      const run = runLoadTest([target(echo.port), '--clients', '10', '--rate', '200', '--duration', '3', '--warmup', '0'])
      await waitUntil('the 10 clients connected', () => openFds(echo.pid) >= idleFds + 10, 20_000)
      await sleep(300)
      // A real pause: the server process is stopped for a second.
      process.kill(echo.pid, 'SIGSTOP')
      await sleep(1000)
      process.kill(echo.pid, 'SIGCONT')
      const { code, report } = await run
      expect(code).toBe(0)
      expect(report.mode).toBe('open')
      expect(Object.values(report.errors).every(n => n === 0)).toBe(true)
      // 600 messages in 3 s; the 200 due during the stall waited up to 1 s each. The top 1%
      // are the 6 due in its first 30 ms: p99 is the stall less at most those 30 ms. A
      // generator that measured from its delayed sends would report a p99 of about 1 ms.
      // The first message held up was due up to one interval (5 ms at 200/s) after the stop,
      // and HDR keeps 3 significant digits: the longest wait is the stall less at most 6 ms.
      expect(report.latencyUs.max).toBeGreaterThanOrEqual(994_000)
      expect(report.latencyUs.p99).toBeGreaterThanOrEqual(960_000)
      expect(report.latencyUs.p90).toBeGreaterThanOrEqual(300_000)
      expect(report.messages).toBeGreaterThan(550)
    } finally {
      echo.kill()
    }
  })

  // A server slow for its first 500 ms (every answer 300 ms late), then instant.
  const COLD_MS = 500
  const SLOW_MS = 300
  const gateway = ['--protocol', 'gateway', '--clients', '5', '--rate', '200', '--duration', '1']

  it('--warmup: the same load runs first and its answers are left out; a cold start then shows in no figure', async () => {
    const cold = await coldLineServer(COLD_MS, SLOW_MS)
    server = cold
    const { code, report } = await runLoadTest([target(cold.port), ...gateway, '--warmup', '1.5'])
    expect(code).toBe(0)
    // A run ends once its last due message is answered: a little before its time is up.
    expect(report.warmup.seconds).toBeGreaterThan(1.4)
    // The warm-up ran the same open loop: about 200 a second for 1.5 s (less what the slow
    // answers held up: one in flight per client).
    expect(report.warmup.messages).toBeGreaterThan(50)
    expect(report.warmup.errors).toBe(0)
    // Every request the server saw is in the warm-up or in the run, none counted twice.
    expect(cold.seen()).toBe(report.warmup.messages + report.sent)
    expect(report.messages).toBeGreaterThan(150)
    // The slow answers were all in the warm-up: the run's p99 is far below them.
    expect(report.latencyUs.p99).toBeLessThan(SLOW_MS * 1000 / 2)
  })

  it('--warmup 0 on the same cold server: the cold start is in the figures', async () => {
    server = await coldLineServer(COLD_MS, SLOW_MS)
    const { report } = await runLoadTest([target(server.port), ...gateway, '--warmup', '0'])
    expect(report.warmup).toBeUndefined()
    // Half the run's requests were due while the server was cold (and the open loop charges
    // the ones queued behind a slow answer from when they were due).
    expect(report.latencyUs.p90).toBeGreaterThanOrEqual(SLOW_MS * 1000 * 0.999)
  })

  it('an open loop warms up for 1 s unless told otherwise; a closed loop does not', async () => {
    server = await lineServer(() => JSON.stringify({ ok: true }))
    const open = await runLoadTest([target(server.port), '--protocol', 'gateway', '--clients', '2', '--rate', '100', '--duration', '0.5'])
    expect(open.report.warmup.seconds).toBeGreaterThan(0.9)
    expect(open.report.warmup.messages).toBeGreaterThan(50)
    // Said in the text too: the answers left out are no secret.
    const text = await runMesh(['loadtest', target(server.port), '--protocol', 'gateway', '--clients', '2', '--rate', '100', '--duration', '0.5'])
    expect(text.stdout).toMatch(/warm-up first: 1(\.\d+)? s, \d+ answers discarded/)
    const closed = await runLoadTest([target(server.port), '--protocol', 'gateway', '--clients', '2', '--messages', '10'])
    expect(closed.report.warmup).toBeUndefined()
    expect(closed.report.messages).toBe(20)
  })
})
