import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const MESH = ['cli/mesh.js']

function mesh (...args: string[]): { status: number | null, stdout: string, stderr: string } {
  const r = spawnSync(process.execPath, [...MESH, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('mesh primes count', () => {
  it('prints the count of [FROM, TO] in the sentence of the distributed form', () => {
    const r = mesh('primes', 'count', '1', '1e6', '--local', '--workers', '2')
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(/^78498 primes in \[1, 1000000\] · [\d.]+ s · \d+ shards? on this machine \(2 worker threads\)\n$/)
    expect(r.status).toBe(0)
    expect(mesh('primes', 'count', '2', '2', '--local', '--workers', '1').stdout).toMatch(/^1 prime in \[2, 2\] · [\d.]+ s · 1 shard on this machine \(1 worker thread\)\n$/)
  })

  it('accepts underscores, exponents, powers and sums', () => {
    expect(mesh('primes', 'count', '1_000_000', '1e6+1e5', '--local').stdout).toMatch(/^7216 primes in \[1000000, 1100000\] /)
    expect(mesh('primes', 'count', '0', '2^32', '--local', '--workers', '2').stdout).toMatch(/^203280221 primes in \[0, 4294967296\] /)
  })

  it('prints one JSON document: from, to, count, seconds, shards, peers, retries, method', () => {
    const r = mesh('primes', 'count', '1e9', '1e9+1e7', '--local', '--json', '--workers', '2')
    expect(r.status).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(Object.keys(doc)).toEqual(['from', 'to', 'count', 'seconds', 'shards', 'peers', 'retries', 'method'])
    expect(doc).toMatchObject({ from: 1_000_000_000, to: 1_010_000_000, count: 482449, retries: 0, method: 'sieve' })
    expect(doc.peers).toHaveLength(1)
    expect(doc.peers[0].id).toBe('local')
    expect(doc.peers[0].shards).toBe(doc.shards)
    expect(typeof doc.seconds).toBe('number')
  })

  it('counts a wide interval by pi(TO) - pi(FROM - 1) unless told to sieve, and says which', () => {
    const wide = JSON.parse(mesh('primes', 'count', '1e9', '1e12', '--local', '--json', '--workers', '2').stdout)
    expect(wide).toMatchObject({ count: 37607912018 - 50847534, method: 'combinatorial' })
    const forced = JSON.parse(mesh('primes', 'count', '1e9', '1e9+1e7', '--local', '--json', '--method', 'combinatorial').stdout)
    expect(forced).toMatchObject({ count: 482449, method: 'combinatorial' })
    const sieved = JSON.parse(mesh('primes', 'count', '0', '1e9', '--local', '--json', '--method', 'sieve').stdout)
    expect(sieved).toMatchObject({ count: 50847534, method: 'sieve' })
    const bad = mesh('primes', 'count', '0', '1e9', '--local', '--method', 'guess')
    expect(bad.status).toBe(2)
    expect(bad.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('prints bounds above 2^53 as decimal strings in JSON', () => {
    const r = mesh('primes', 'count', '2^54', '2^54+1e6', '--local', '--json')
    expect(r.status).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(doc.from).toBe('18014398509481984')
    expect(doc.to).toBe('18014398510481984')
    expect(doc.count).toBe(26483)
  })

  it('exits 2 with one line on stderr for bad bounds', () => {
    for (const args of [['5', '3'], ['-5', '7'], ['1.5', '7'], ['abc', '7'], ['0', '2^64'], ['0', '18446744073709551616'], ['1e20', '1e21'], ['1']]) {
      const r = mesh('primes', 'count', ...args, '--local')
      expect(r.status, args.join(' ')).toBe(2)
      expect(r.stdout, args.join(' ')).toBe('')
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1)
    }
  })
})

describe('mesh primes list', () => {
  it('streams the primes of a range in order', () => {
    const r = mesh('primes', 'list', '1e12', '1e12+100')
    expect(r.status).toBe(0)
    expect(r.stdout).toBe('1000000000039\n1000000000061\n1000000000063\n1000000000091\n')
  })

  it('lists near 2^64 exactly', () => {
    expect(mesh('primes', 'list', '2^64-100', '2^64-1').stdout)
      .toBe('18446744073709551521\n18446744073709551533\n18446744073709551557\n')
  })

  it('stops quietly when the reader goes away (| head), exit code 0', async () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash expansion, not a template
    const child = spawn('bash', ['-c', '"$NODE" cli/mesh.js primes list 1e12 1e18 | head -n 3; echo "status=${PIPESTATUS[0]}"'], {
      cwd: ROOT,
      env: { ...process.env, NODE: process.execPath }
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => { stdout += d })
    child.stderr.on('data', (d) => { stderr += d })
    const code = await new Promise((resolve) => child.on('close', resolve))
    expect(code).toBe(0)
    expect(stdout).toBe('1000000000039\n1000000000061\n1000000000063\nstatus=0\n')
    expect(stderr).toBe('')
  })

  it('rejects bad bounds with exit code 2', () => {
    const r = mesh('primes', 'list', '10', '5')
    expect(r.status).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
  })
})
