import { mkdir } from 'node:fs/promises'
import { createServer, type AddressInfo } from 'node:net'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../utils/browser.ts'
import { gatewayAddress } from '../utils/gateway-client.ts'
import { JOB_NODE_ARGS, primesieveCount, waitForProgress } from '../utils/jobs-mesh.ts'
import { MeshProcess, waitUntil } from '../utils/mesh-process.ts'
import { runMesh } from '../utils/run-mesh.ts'

// A few seconds of sieving for three one-worker nodes: long enough to watch it run.
const FROM = 1_000_000_000_000n
const TO = FROM + 6_000_000_000n

/**
 * The dashboard in real headless Chromium, against a 3-node mesh on loopback: what the page
 * shows is what the nodes say, what is typed on it reaches the mesh, and it follows a job
 * and a crash live.
 */
describe('dashboard in a browser', () => {
  let nodes: MeshProcess[] = []
  let alice: MeshProcess
  let bob: MeshProcess
  let carol: MeshProcess
  let browser: Browser
  let page: Page
  let base: string
  const errors: string[] = []

  beforeAll(async () => {
    alice = await MeshProcess.start({ name: 'alice', args: [...JOB_NODE_ARGS, '--http', '127.0.0.1:0'] })
    ;[bob, carol] = await Promise.all(['bob', 'carol'].map(async name => await MeshProcess.start({ name, args: JOB_NODE_ARGS, bootstrap: [alice.bootstrapAddr] })))
    nodes = [alice, bob, carol]
    const { host, port } = await gatewayAddress(alice, 'http')
    base = `http://${host}:${port}`
    browser = await launchChromium()
    page = await browser.newPage({ viewport: { width: 1280, height: 1100 } })
    page.on('pageerror', err => { errors.push(err.message) })
    // Console errors too: a request that failed, or anything the content policy blocked.
    page.on('console', message => { if (message.type() === 'error') errors.push(message.text()) })
    await page.goto(`${base}/`)
  })

  afterAll(async () => {
    await browser?.close()
    await Promise.all(nodes.map(async n => { await n.destroy() }))
  })

  it('shows the three members alive', async () => {
    await waitUntil('the page to show 3 alive members', async () => await page.locator('#member-table tbody tr[data-state="alive"]').count() === 3, 20_000, 100)
    for (const node of nodes) expect(await page.textContent(`#member-table tr[data-id="${node.id}"]`)).toContain(node.name)
    expect(await page.textContent('#feed-status')).toBe('live')
  })

  it('sends a message typed on the page, which another node\'s mesh chat history shows', async () => {
    const text = `hello from the page <b>${Date.now()}</b>`
    await page.fill('#chat-text', text)
    await page.click('#chat-send')
    await waitUntil('bob to hold the message', async () => {
      const { stdout } = await runMesh(['chat', 'history', '--home', bob.home, '--json'])
      return JSON.parse(stdout).messages.some((m: any) => m.text === text && m.from === alice.id)
    }, 20_000, 250)
    // Shown as text: the markup in it stays characters.
    await shownInChat(page, text)
    expect(await page.$$('#chat-messages b')).toHaveLength(0)
    // And a message said elsewhere arrives on the page live.
    const reply = `hi alice, bob here ${Date.now()}`
    expect((await runMesh(['chat', 'send', '--home', bob.home, reply])).code).toBe(0)
    await shownInChat(page, reply)
  })

  it('switches rooms and sends direct messages from the page', async () => {
    await page.fill('#chat-join-room', 'ops')
    await page.press('#chat-join-room', 'Enter')
    await page.waitForSelector('#chat-rooms button[data-conversation="ops"][aria-current="true"]')
    await page.fill('#chat-text', 'in the ops room')
    await page.click('#chat-send')
    await shownInChat(page, 'in the ops room')
    await page.click(`#chat-dms button[data-conversation="@${bob.id}"]`)
    expect(await page.textContent('#chat-title')).toBe('@bob')
    await page.fill('#chat-text', 'just for bob')
    await page.click('#chat-send')
    await shownInChat(page, 'just for bob')
    await waitUntil('bob to hold the room message and the direct one', async () => {
      const room = JSON.parse((await runMesh(['chat', 'history', '--home', bob.home, '--room', 'ops', '--json'])).stdout)
      const dm = JSON.parse((await runMesh(['chat', 'history', '--home', bob.home, '--dm', 'alice', '--json'])).stdout)
      return room.messages.some((m: any) => m.text === 'in the ops room') && dm.messages.some((m: any) => m.text === 'just for bob')
    }, 20_000, 250)
    // Back in the lobby, its history is there again.
    await page.click('#chat-rooms button[data-conversation="lobby"]')
    await page.locator('#chat-messages .text').filter({ hasText: 'hello from the page' }).first().waitFor({ timeout: 10_000 })
  })

  it('draws the connections as each node sees them', async () => {
    // Three edges of a full mesh of three, every node's own view gathered (solid edges).
    await page.waitForSelector('#graph-canvas[data-views="3"][data-edges="3"]', { timeout: 20_000 })
    expect(await page.$$eval('#graph-view option', options => options.map(o => o.textContent))).toEqual(['every node', 'alice', 'bob', 'carol'])
  })

  it('follows a job started from the CLI while a node is killed with -9: bars per peer, the node dead, its shards reassigned, the exact result', async () => {
    const run = runMesh(['primes', 'count', FROM.toString(), TO.toString(), '--home', alice.home, '--json', '--method', 'sieve'], { timeoutMs: 120_000 })
    await page.waitForSelector('.job[data-state="running"] .peer-bars span', { timeout: 60_000 })
    await waitForProgress(alice, 0.3)
    carol.signal('SIGKILL')
    const row = `#member-table tr[data-id="${carol.id}"][data-state="dead"]`
    await page.waitForSelector(row, { timeout: 20_000 })
    // Greyed (by its state) and with why.
    expect(await page.textContent(row)).toMatch(/(unreachable|no heartbeat|reported by a peer) at \d\d:\d\d:\d\d/)
    expect(await page.$$eval('#member-table tbody tr[data-state="alive"]', rows => rows.length)).toBe(2)
    const { code, stdout, stderr } = await run
    expect(code, stderr).toBe(0)
    const out = JSON.parse(stdout)
    expect(BigInt(out.count)).toBe(primesieveCount(FROM, TO))
    expect(out.reassigned).toBeGreaterThan(0)
    const done = '.job[data-state="done"]'
    await page.waitForSelector(`${done} .job-result`, { timeout: 15_000 })
    expect(await page.textContent(`${done} .job-result`)).toBe(`${out.count as string} primes`)
    expect(await page.textContent(`${done} .job-reassigned`)).toContain(`${out.reassigned as number} reassigned`)
    // One bar per peer that delivered shards, named by nick.
    const peerNames = await page.$$eval(`${done} .peer-bars > span:nth-child(3n+1)`, spans => spans.map(s => s.textContent))
    expect(peerNames.length).toBe(out.peers.filter((p: any) => p.shards > 0).length)
    expect(peerNames).toContain('alice')
  })

  it('charts the gateway\'s requests and the death on the time axis; saves a screenshot', async () => {
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${base}/api/primes/test?n=104729`)
      expect(res.status).toBe(200)
    }
    await page.waitForSelector('#chart-throughput:not([data-gateway-seconds="0"])', { timeout: 15_000 })
    await page.waitForSelector('#chart-members[data-dead="1"]', { timeout: 5000 })
    await mkdir('test-results', { recursive: true })
    await page.screenshot({ path: 'test-results/dashboard.png', fullPage: true })
    expect(errors).toEqual([])
  })
})

describe('dashboard feed across a restart of its node', () => {
  it('says it lost the node, reconnects by itself when the node is back, and shows the mesh again', async () => {
    const port = await freePort()
    const args = ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--workers', '1', '--http', `127.0.0.1:${port}`]
    let node = await MeshProcess.start({ name: 'dora', args })
    const browser = await launchChromium()
    try {
      const page = await browser.newPage()
      await page.goto(`http://127.0.0.1:${port}/`)
      await page.waitForSelector(`#member-table tr[data-id="${node.id}"][data-state="alive"]`, { timeout: 20_000 })
      await page.waitForSelector('#feed-status[data-status="live"]')
      node.signal('SIGTERM')
      await node.waitForExit()
      await page.waitForSelector('#feed-status[data-status="reconnecting"]', { timeout: 10_000 })
      // The same home and port: the page was left open, nobody reloads it.
      node = await MeshProcess.start({ name: 'dora', home: node.home, args })
      await page.waitForSelector('#feed-status[data-status="live"]', { timeout: 30_000 })
      await page.waitForSelector(`#member-table tr[data-id="${node.id}"][data-state="alive"]`, { timeout: 10_000 })
    } finally {
      await browser.close()
      await node.destroy()
    }
  })
})

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise(resolve => server.close(resolve))
  return port
}

/** Waits until the open conversation shows a message of exactly this text. */
async function shownInChat (page: Page, text: string): Promise<void> {
  const message = page.locator('#chat-messages .text').filter({ hasText: text }).first()
  await message.waitFor({ timeout: 15_000 })
  expect(await message.textContent()).toBe(text)
}
