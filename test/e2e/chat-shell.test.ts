import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callNode } from '../../cli/control-client.ts'
import { MESH_BIN, waitUntil } from '../utils/mesh-process.ts'
import { TmuxServer } from '../utils/tmux.ts'

const LOOPBACK = ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0']

/** The chat shell as a person uses it: two `mesh start` in real terminals, typing and reading. */
describe('the chat shell in a terminal', () => {
  const tmux = new TmuxServer()
  const homes: string[] = []
  let aliceId = ''
  let aliceAddr = ''

  async function startShell (name: string, bootstrap: string[] = []): Promise<string> {
    const home = await mkdtemp(join(tmpdir(), `mesh-shell-${name}-`))
    homes.push(home)
    const args = [process.execPath, MESH_BIN, 'start', '--home', home, '--name', name, ...LOOPBACK, ...bootstrap.flatMap(b => ['--bootstrap', b])]
    await tmux.open(name, args)
    await tmux.waitForScreen(name, `[${name}@lobby]`)
    return home
  }

  beforeAll(async () => {
    const aliceHome = await startShell('alice')
    let addr = ''
    await waitUntil('alice\'s address', async () => {
      const id = await callNode(aliceHome, 'id')
      aliceId = id.id
      addr = id.addrs.find((a: string) => a.startsWith('/ip4/127.0.0.1/'))
      return addr != null
    })
    aliceAddr = addr
    await startShell('bob', [addr])
    await tmux.waitForScreen('bob', 'alice joined')
    await tmux.waitForScreen('alice', 'bob joined')
  })

  afterAll(async () => {
    await tmux.kill()
    await Promise.all(homes.map(async h => { await rm(h, { recursive: true, force: true }) }))
  })

  it('a message typed by alice shows on bob\'s screen', async () => {
    await tmux.type('alice', 'hello bob, from the shell', true)
    await tmux.waitForScreen('bob', /\d\d:\d\d:\d\d alice: hello bob, from the shell/)
    // Alice sees her own line once, formatted, and her prompt again.
    const screen = await tmux.waitForScreen('alice', /alice: hello bob, from the shell/)
    expect(screen.match(/hello bob, from the shell/g)).toHaveLength(1)
    expect(await tmux.promptLine('alice')).toBe('[alice@lobby]')
  })

  it('an incoming message does not break a half-typed line', async () => {
    await tmux.type('bob', 'I am still typ')
    await tmux.type('alice', 'interrupting you', true)
    await tmux.waitForScreen('bob', 'alice: interrupting you')
    expect(await tmux.promptLine('bob')).toBe('[bob@lobby] I am still typ')
    await tmux.type('bob', 'ing this', true)
    await tmux.waitForScreen('alice', 'bob: I am still typing this')
  })

  it('a half-typed line longer than the terminal is wide survives an incoming message, and its echo leaves no rows behind', async () => {
    const words = Array.from({ length: 30 }, (_, i) => `word${String(i).padStart(2, '0')}`).join(' ')
    await tmux.type('bob', words)
    await tmux.waitForScreen('bob', 'word29')
    await tmux.type('alice', 'a message while bob types a lot', true)
    // Once the shell has printed the message and drawn the input again below it (a capture
    // between the two shows the input cleared for the redraw)...
    const screen = await tmux.waitForScreen('bob', /alice: a message while bob types a lot\n[\s\S]*\[bob@lobby\] word00[\s\S]*word29\s*$/)
    // ...the wrapped input is there once, whole, after the message: no stale row of it above.
    expect(screen.match(/word00/g)).toHaveLength(1)
    expect(await tmux.promptLine('bob')).toBe(`[bob@lobby] ${words}`)
    await tmux.type('bob', '', true)
    await tmux.waitForScreen('alice', `bob: ${words}`)
    const after = await tmux.waitForScreen('bob', new RegExp(`\\d\\d:\\d\\d:\\d\\d bob: ${words}\n\\[bob@lobby\\]`))
    expect(after.match(/word00/g)).toHaveLength(1)
  })

  it('commands: /join, /rooms, /peers, /msg, /history', async () => {
    await tmux.type('bob', '/join dev', true)
    await tmux.waitForScreen('bob', '[bob@dev]')
    await tmux.type('bob', '/rooms', true)
    await tmux.waitForScreen('bob', /\* dev/)
    await tmux.type('bob', '/peers', true)
    await tmux.waitForScreen('bob', new RegExp(`alice#${aliceId.slice(-6)} alive`))
    await tmux.type('bob', '/list', true)
    await tmux.waitForScreen('bob', /\(you\)[\s\S]*\(you\)/)
    await tmux.type('bob', '/msg alice just between us', true)
    await tmux.waitForScreen('alice', '*bob* just between us')
    // The names /msg takes are the ones every command takes: nick#suffix, the end of the id.
    await tmux.type('bob', `/msg alice#${aliceId.slice(-6)} by nick and suffix`, true)
    await tmux.waitForScreen('alice', '*bob* by nick and suffix')
    await tmux.type('bob', `/msg ${aliceId.slice(-8)} by the end of her id`, true)
    await tmux.waitForScreen('alice', '*bob* by the end of her id')
    await tmux.type('alice', '/history', true)
    await tmux.waitForScreen('alice', /alice: interrupting you[\s\S]*\[alice@lobby\]/)
    await tmux.type('alice', '/frobnicate', true)
    await tmux.waitForScreen('alice', 'unknown command /frobnicate')
  })

  it('usage in plain words: a room name\'s rule, /history N, and // to say a line that starts with /', async () => {
    await tmux.type('alice', '/join bad room!', true)
    await tmux.waitForScreen('alice', /may use only letters, digits.*Usage: \/join ROOM/)
    await tmux.type('alice', '//shrug is not a command', true)
    await tmux.waitForScreen('bob', /alice: \/shrug is not a command/)
    await tmux.type('alice', '/history 1', true)
    // The message as said, then exactly one line of history (the same message), then the prompt.
    await tmux.waitForScreen('alice', /alice: \/shrug is not a command\n.*alice: \/shrug is not a command\n\[alice@lobby\]/)
  })

  it('closing a terminal (SIGHUP) is a leave: the peer shows "left", not "lost"', async () => {
    await startShell('carol', [aliceAddr])
    await tmux.waitForScreen('alice', 'carol joined')
    await tmux.tmux('kill-session', '-t', 'carol')
    const screen = await tmux.waitForScreen('alice', 'carol left')
    expect(screen).not.toContain('carol lost')
  })

  it('/quit leaves cleanly: the process exits 0 and the peer shows "left"', async () => {
    await tmux.type('alice', '/quit', true)
    const screen = await tmux.waitForScreen('alice', 'EXITED 0')
    expect(screen).toMatch(/-- leaving the mesh…\n-- left the mesh: peers see alice as left\. Bye\.\nEXITED 0/)
    await tmux.waitForScreen('bob', 'alice left')
  })
})
