import { readdirSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { EchoProcess, runLoadTest } from '../utils/echo-process.ts'
import { closedPort, corruptingServer, delayingServer, lineServer, resettingServer, silentServer, type KnownServer } from '../utils/known-servers.ts'
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
      const run = runLoadTest([target(echo.port), '--clients', '10', '--rate', '200', '--duration', '3'])
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
})
