import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const MESH = fileURLToPath(new URL('../../cli/mesh.js', import.meta.url))
const home = mkdtempSync(join(tmpdir(), 'mesh-primes-test-'))

afterAll(() => { rmSync(home, { recursive: true, force: true }) })

interface Run { code: number, stdout: string, stderr: string }

function mesh (...args: string[]): Promise<Run> {
  return new Promise(resolve => {
    execFile(process.execPath, [MESH, ...args], { env: { ...process.env, MESH_HOME: home, DEBUG: '' } },
      (err, stdout, stderr) => {
        const code = err == null ? 0 : typeof err.code === 'number' ? err.code : -1
        resolve({ code, stdout, stderr })
      })
  })
}

const P300 = (10n ** 299n + 669n).toString()

describe('mesh primes test', () => {
  it('prints the JSON shape for the largest 64-bit prime', async () => {
    const run = await mesh('primes', 'test', '18446744073709551557', '--json')
    expect(run).toEqual({ code: 0, stdout: '{"n":"18446744073709551557","is_prime":true}\n', stderr: '' })
  })

  it('answers in JSON for a composite and for a 300-digit prime', async () => {
    const [composite, big] = await Promise.all([
      mesh('primes', 'test', '3825123056546413051', '--json', '--home', home),
      mesh('primes', 'test', P300, '--json')
    ])
    expect(JSON.parse(composite.stdout)).toEqual({ n: '3825123056546413051', is_prime: false })
    expect(composite.code).toBe(0)
    expect(JSON.parse(big.stdout)).toEqual({ n: P300, is_prime: true })
    expect(big.code).toBe(0)
  })

  it('prints one human line, with a small factor when it has one', async () => {
    const runs = await Promise.all([
      mesh('primes', 'test', '1_000_003'),
      mesh('primes', 'test', '1e9'),
      mesh('primes', 'test', '341550071728321'),
      mesh('primes', 'test', '1')
    ])
    expect(runs.map(r => r.stdout)).toEqual([
      '1000003 is prime\n',
      '1000000000 is not prime (divisible by 2)\n',
      '341550071728321 is not prime\n',
      '1 is not prime\n'
    ])
    expect(runs.map(r => r.code)).toEqual([0, 0, 0, 0])
  })

  it('rejects bad input with exit 2 and exactly one stderr line', async () => {
    const bad = [['-5'], ['1.5'], ['abc'], ['1e10001'], ['12abc'], [], ['3', '4']]
    const runs = await Promise.all(bad.map(args => mesh('primes', 'test', ...args)))
    for (const [i, run] of runs.entries()) {
      const what = JSON.stringify(bad[i])
      expect(run.code, what).toBe(2)
      expect(run.stdout, what).toBe('')
      expect(run.stderr.endsWith('\n'), what).toBe(true)
      expect(run.stderr.trimEnd().split('\n'), what).toHaveLength(1)
    }
  })
})
