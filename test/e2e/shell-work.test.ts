import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MESH_BIN, startMesh, waitUntil, type MeshProcess } from '../utils/mesh-process.ts'
import { TmuxServer } from '../utils/tmux.ts'

/** The pooled-CPU commands of the shell, typed in a real terminal next to a background peer. */
describe('the shell\'s work commands', () => {
  const tmux = new TmuxServer()
  let home: string
  let bob: MeshProcess

  beforeAll(async () => {
    [bob] = await startMesh(['bob'], ['--workers', '1'])
    home = await mkdtemp(join(tmpdir(), 'mesh-shell-work-'))
    await tmux.open('alice', [process.execPath, MESH_BIN, 'start', '--home', home, '--name', 'alice', '--workers', '2',
      '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--bootstrap', bob.bootstrapAddr])
    await tmux.waitForScreen('alice', 'bob joined')
  })

  afterAll(async () => {
    await tmux.kill()
    await bob.destroy()
    await rm(home, { recursive: true, force: true })
  })

  it('/workers lists every live peer with its free slots and load', async () => {
    await tmux.type('alice', '/workers', true)
    const screen = await tmux.waitForScreen('alice', /bob\s+1\/1 free\s+load 0\.00/)
    expect(screen).toMatch(/alice \(you\)\s+2\/2 free\s+load 0\.00/)
  })

  it('/calc, /text and /primes run on the mesh; /results lists what this shell ran', async () => {
    await tmux.type('alice', '/calc sum 10 20 30 40', true)
    await tmux.waitForScreen('alice', /-- calc sum 10 20 30 40 = 100 \(from (alice|bob)\)/)
    await tmux.type('alice', '/text uppercase hello mesh', true)
    await tmux.waitForScreen('alice', /-- text uppercase "hello mesh" = HELLO MESH \(from (alice|bob)\)/)
    await tmux.type('alice', '/calc sum ten', true)
    await tmux.waitForScreen('alice', /"ten" is not a number/)
    // Exact: primesieve 999001 1000000 counts 65 (here counted across the mesh by the shell's node).
    await tmux.type('alice', '/primes count 999_001 1e6', true)
    await tmux.waitForScreen('alice', /-- primes count 999_001 1e6 = 65 primes in \[999001, 1000000\] · [\d.]+ s · \d+ shards? on [12] peers? · 0 retries/)
    await tmux.type('alice', '/results', true)
    const screen = await tmux.waitForScreen('alice', /\d\d:\d\d:\d\d text uppercase "hello mesh" = HELLO MESH/)
    expect(screen).toMatch(/\d\d:\d\d:\d\d calc sum 10 20 30 40 = 100 \(from (alice|bob)\)/)
    expect(screen).toMatch(/\d\d:\d\d:\d\d primes count 999_001 1e6 = 65 primes in /)
    // The typo was refused before running: it is not a result.
    expect(screen).not.toMatch(/calc sum ten =/)
    await waitUntil('alice still at her prompt', async () => (await tmux.promptLine('alice')) === '[alice@lobby]')
  })

  it('/calc @PEER and /text @PEER run on the worker named, by any of its names', async () => {
    await tmux.type('alice', '/calc @bob sum 1 2 3', true)
    await tmux.waitForScreen('alice', '-- calc sum 1 2 3 = 6 (from bob)')
    await tmux.type('alice', `/calc @bob#${bob.id.slice(-6)} max 4 5`, true)
    await tmux.waitForScreen('alice', '-- calc max 4 5 = 5 (from bob)')
    await tmux.type('alice', `/text @${bob.id.slice(-8)} count_words one two three`, true)
    await tmux.waitForScreen('alice', '-- text count_words "one two three" = 3 (from bob)')
    await tmux.type('alice', '/text @alice lowercase HeLLo', true)
    await tmux.waitForScreen('alice', '-- text lowercase "HeLLo" = hello (from alice)')
    // A name that fits no peer: said in plain words, and nothing runs.
    await tmux.type('alice', '/calc @carol sum 1', true)
    const screen = await tmux.waitForScreen('alice', /-- no peer called carol/)
    expect(screen).not.toMatch(/calc sum 1 =/)
  })

  it('/primes count shows its progress with the peers by nick and what their numbers are', async () => {
    // Narrow for its height, so it is sieved shard by shard. Exact: primesieve 1e13 1e13+3e9 counts 100222176.
    await tmux.type('alice', '/primes count 1e13 1e13+3e9', true)
    const screen = await tmux.waitForScreen('alice', /-- primes count 1e13 1e13\+3e9 = 100222176 primes in \[10000000000000, 10003000000000\]/, 120_000)
    expect(screen).toMatch(/-- primes count 1e13 1e13\+3e9: \d+% done(, about \d+ s to go)? · shards done: (alice|bob) \d+/)
    expect(screen).not.toMatch(/…\S{6} \d/)
  }, 150_000)

  it('/primes test and /primes list answer; anything else says what /primes does', async () => {
    await tmux.type('alice', '/primes test 104_729', true)
    await tmux.waitForScreen('alice', /-- 104729 is prime \(from (alice|bob)\)/)
    await tmux.type('alice', '/primes list 1 30', true)
    await tmux.waitForScreen('alice', '-- primes in [1, 30]: 2 3 5 7 11 13 17 19 23 29\n')
    await tmux.type('alice', '/primes list 1 1e6', true)
    await tmux.waitForScreen('alice', /-- primes in \[1, 1000000\]: 2 3 5 .* 227 229 … \(the first 50; mesh primes list 1 1000000 prints them all\)/)
    await tmux.type('alice', '/primes sum 1 2', true)
    await tmux.waitForScreen('alice', '-- /primes does count FROM TO, list FROM TO and test N. Usage: /primes count|list FROM TO, or test N')
  })

  it('after all that work, /quit ends the process within seconds', async () => {
    await tmux.type('alice', '/stats', true)
    await tmux.waitForScreen('alice', /up \d+s, \d+ connections?, workers/)
    const started = Date.now()
    await tmux.type('alice', '/quit', true)
    await tmux.waitForScreen('alice', 'EXITED 0', 10_000)
    expect(Date.now() - started).toBeLessThan(10_000)
  })
})
