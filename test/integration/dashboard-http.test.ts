import { request, type ClientRequest, type IncomingMessage } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_FEED_CLIENTS } from '../../node/dashboard/dashboard-feed.ts'
import { gatewayAddress } from '../utils/gateway-client.ts'
import { MeshProcess } from '../utils/mesh-process.ts'
import { runMesh } from '../utils/run-mesh.ts'

interface Reply { status: number, headers: IncomingMessage['headers'], body: string, json: any }

/** The dashboard's HTTP side on a real node: its files, its feed's bound, and who may post. */
describe('dashboard over HTTP', () => {
  let node: MeshProcess
  let base: { host: string, port: number }

  async function http (method: string, path: string, opts: { body?: string, headers?: Record<string, string> } = {}): Promise<Reply> {
    return await new Promise((resolve, reject) => {
      const req = request({ ...base, method, path, headers: opts.headers }, res => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString()
          let json: any
          try { json = JSON.parse(body) } catch {}
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json })
        })
      })
      req.on('error', reject)
      req.end(opts.body)
    })
  }

  const send = async (body: unknown, headers: Record<string, string> = {}): Promise<Reply> =>
    await http('POST', '/api/chat/send', { body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } })

  async function lobby (): Promise<string[]> {
    const { stdout } = await runMesh(['chat', 'history', '--home', node.home, '--json'])
    return JSON.parse(stdout).messages.map((m: any) => m.text)
  }

  /** Opens the feed; resolves with the request and the status, once the first event (or the refusal) came. */
  async function openFeed (): Promise<{ req: ClientRequest, status: number, first: string }> {
    return await new Promise((resolve, reject) => {
      const req = request({ ...base, path: '/api/events' }, res => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          text += chunk
          const event = text.indexOf('event:')
          if (event >= 0 && text.includes('\n\n', event)) resolve({ req, status: res.statusCode ?? 0, first: text })
        })
        res.on('end', () => { resolve({ req, status: res.statusCode ?? 0, first: text }) })
      })
      req.on('error', reject)
      req.end()
    })
  }

  beforeAll(async () => {
    node = await MeshProcess.start({ name: 'dash', args: ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--http', '127.0.0.1:0'] })
    base = await gatewayAddress(node, 'http')
  })

  afterAll(async () => {
    await node?.destroy()
  })

  it('serves the page with a strict content policy, and the libraries from node_modules', async () => {
    const page = await http('GET', '/')
    expect(page.status).toBe(200)
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(page.headers['content-security-policy']).toContain("default-src 'self'")
    expect(page.headers['x-frame-options']).toBe('DENY')
    expect(page.body).toContain('/lib/d3-force.js')
    for (const path of ['/app.js', '/lib/d3-force.js', '/lib/d3-timer.js', '/lib/uplot.js']) {
      const r = await http('GET', path)
      expect(r.status, path).toBe(200)
      expect(r.headers['content-type'], path).toBe('text/javascript; charset=utf-8')
    }
    expect((await http('GET', '/lib/uplot.css')).headers['content-type']).toBe('text/css; charset=utf-8')
  })

  it('serves nothing outside its list of files', async () => {
    for (const path of ['/lib/../../package.json', '/lib/%2e%2e/%2e%2e/package.json', '/node_modules/uplot/package.json', '/public/app.js', '/app.js.map']) {
      expect((await http('GET', path)).status, path).toBe(404)
    }
  })

  it('takes a message from its own page, and refuses one posted by another site', async () => {
    const own = await send({ text: 'from the page' }, { origin: `http://${base.host}:${base.port}`, 'sec-fetch-site': 'same-origin' })
    expect(own.status, own.body).toBe(200)
    expect(own.json).toMatchObject({ conversation: 'lobby', text: 'from the page', label: 'dash' })
    const foreign = await send({ text: 'from another site' }, { origin: 'http://evil.example' })
    expect(foreign.status).toBe(403)
    const crossSite = await send({ text: 'cross-site, no origin' }, { 'sec-fetch-site': 'cross-site' })
    expect(crossSite.status).toBe(403)
    const nullOrigin = await send({ text: 'from a sandboxed frame' }, { origin: 'null' })
    expect(nullOrigin.status).toBe(403)
    // A client that is not a browser page (curl) names no origin.
    expect((await send({ text: 'from curl' })).status).toBe(200)
    // The same Host rule as the rest of the API: a rebound domain is refused.
    expect((await send({ text: 'rebound' }, { host: `evil.example:${base.port}` })).status).toBe(403)
    const texts = await lobby()
    expect(texts).toContain('from the page')
    expect(texts).toContain('from curl')
    for (const refused of ['from another site', 'cross-site, no origin', 'from a sandboxed frame', 'rebound']) expect(texts).not.toContain(refused)
  })

  it('lets another site link to the page, but not load the feed or the API from its own pages', async () => {
    const link = await http('GET', '/', { headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' } })
    expect(link.status).toBe(200)
    for (const path of ['/api/events', '/api/peers', '/api/primes/count?from=1&to=1e9', '/api/chat/history?room=lobby']) {
      const embedded = await http('GET', path, { headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' } })
      expect(embedded.status, path).toBe(403)
    }
    const own = await http('GET', '/api/peers', { headers: { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' } })
    expect(own.status).toBe(200)
  })

  it('joins a room only on a POST: reading its history changes nothing', async () => {
    expect((await http('GET', '/api/chat/history?room=quiet')).status).toBe(200)
    const join = async (room: unknown): Promise<Reply> => await http('POST', '/api/chat/join', { body: JSON.stringify({ room }), headers: { 'content-type': 'application/json' } })
    const r = await join('ops')
    expect(r.status, r.body).toBe(200)
    expect(r.json.rooms).toContain('ops')
    expect(r.json.rooms).not.toContain('quiet')
    expect((await join('no spaces allowed')).status).toBe(400)
    expect((await join(7)).status).toBe(400)
  })

  it('answers bad messages with 400 and what was wrong', async () => {
    const form = await http('POST', '/api/chat/send', { body: 'text=hi', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    expect(form.status).toBe(400)
    expect((await send({ text: '' })).json.error).toMatch(/text/)
    expect((await send({ text: 'x'.repeat(5000) })).status).toBe(400)
    expect((await send({ room: '../etc', text: 'hi' })).json.error).toMatch(/room/)
    expect((await send({ dm: 'nobody-at-all', text: 'hi' })).status).toBe(400)
    expect((await send({ room: 'a', dm: 'b', text: 'hi' })).status).toBe(400)
    expect((await http('GET', '/api/chat/history?limit=0')).status).toBe(400)
    expect((await http('GET', '/api/chat/history?room=lobby&limit=5')).json.messages.length).toBeGreaterThan(0)
  })

  it(`follows at most ${MAX_FEED_CLIENTS} feeds at once; a place freed is taken again`, async () => {
    const feeds = await Promise.all(Array.from({ length: MAX_FEED_CLIENTS }, async () => await openFeed()))
    try {
      for (const f of feeds) {
        expect(f.status).toBe(200)
        expect(f.first).toContain('event: snapshot')
      }
      const refused = await openFeed()
      expect(refused.status).toBe(503)
      feeds.pop()?.req.destroy()
      // The node notices the closed socket shortly: poll until a new feed gets in.
      let again = await openFeed()
      for (let i = 0; i < 50 && again.status !== 200; i++) again = await openFeed()
      expect(again.status).toBe(200)
      feeds.push(again)
    } finally {
      for (const f of feeds) f.req.destroy()
    }
  })
})
