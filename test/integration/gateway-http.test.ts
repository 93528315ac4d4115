import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gatewayAddress } from '../utils/gateway-client.ts'
import { MeshProcess, waitUntil } from '../utils/mesh-process.ts'
import { parsePrometheusText } from '../utils/prometheus-text.ts'
import { testNodePrefix } from '../utils/test-node.ts'

const LOOPBACK = ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0']

interface Reply { status: number, type: string, body: string, json: any }

/**
 * The HTTP API of a gateway node (alice, who serves no calc/text/greeter herself) in a mesh
 * with bob, whose task handlers take 1.5 s: every task goes to bob, and a short deadline
 * passes before he answers.
 */
describe('gateway HTTP API', () => {
  let alice: MeshProcess
  let bob: MeshProcess
  let base: { host: string, port: number }

  async function http (method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
    return await new Promise((resolve, reject) => {
      const req = request({ ...base, method, path, headers: body != null ? { 'content-type': 'application/json', ...headers } : headers }, res => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString()
          let json: any
          try { json = JSON.parse(text) } catch { json = undefined }
          resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: text, json })
        })
      })
      req.on('error', reject)
      req.end(body)
    })
  }

  beforeAll(async () => {
    alice = await MeshProcess.start({ name: 'alice', args: [...LOOPBACK, '--http', '127.0.0.1:0'], prefix: testNodePrefix({ noTaskServices: true }) })
    bob = await MeshProcess.start({ name: 'bob', args: LOOPBACK, bootstrap: [alice.bootstrapAddr], prefix: testNodePrefix({ taskDelayMs: 1500 }) })
    await waitUntil('alice to see bob offering calc.sum', async () => {
      const { members } = await alice.peers()
      return members.some(m => m.id === bob.id && m.state === 'alive' && m.services.includes('calc.sum'))
    }, 20_000)
    base = await gatewayAddress(alice, 'http')
  })

  afterAll(async () => {
    await Promise.all([alice, bob].map(async n => { await n?.destroy() }))
  })

  it('GET /api/peers lists both nodes, alice with her http role', async () => {
    const r = await http('GET', '/api/peers')
    expect(r.status).toBe(200)
    expect(r.type).toBe('application/json; charset=utf-8')
    expect(r.json.self).toBe(alice.id)
    expect(r.json.members.map((m: any) => m.id).sort()).toEqual([alice.id, bob.id].sort())
    expect(r.json.members.find((m: any) => m.id === alice.id).roles).toEqual([`http=127.0.0.1:${base.port}`])
  })

  it('GET /api/primes/count, /test and /range answer with the peer that did the work', async () => {
    const count = await http('GET', '/api/primes/count?from=1&to=100000')
    expect(count.status).toBe(200)
    expect(count.json).toMatchObject({ from: 1, to: 100000, count: 9592 })
    expect([alice.id, bob.id]).toContain(count.json.peer)
    const test = await http('GET', '/api/primes/test?n=104729')
    expect(test.json).toMatchObject({ n: '104729', is_prime: true })
    const composite = await http('GET', '/api/primes/test?n=1e6')
    expect(composite.json).toMatchObject({ n: '1000000', is_prime: false })
    // Paged: 25 primes below 100, 10 a page.
    const primes: number[] = []
    let from = '1'
    for (let page = 0; page < 5; page++) {
      const r = await http('GET', `/api/primes/range?from=${from}&to=100&limit=10`)
      expect(r.status).toBe(200)
      primes.push(...r.json.primes)
      if (r.json.next == null) break
      from = r.json.next
    }
    expect(primes.length).toBe(25)
    expect(primes.at(-1)).toBe(97)
  })

  it('a wide count is a job, and GET /api/jobs lists it', async () => {
    const r = await http('GET', '/api/primes/count?from=1e9&to=2e9')
    expect(r.status).toBe(200)
    expect(r.json).toMatchObject({ count: 47374753 })
    expect(r.json.shards).toBeGreaterThan(1)
    const jobs = await http('GET', '/api/jobs')
    expect(jobs.json.jobs.find((j: any) => j.id === r.json.job)).toMatchObject({ from: '1000000000', to: '2000000000', state: 'done' })
  })

  it('POST /api/tasks and /api/call run on the peer that offers them', async () => {
    const task = await http('POST', '/api/tasks', JSON.stringify({ kind: 'calc', op: 'sum', input: [1, 2, 3] }))
    expect(task.status).toBe(200)
    expect(task.json).toMatchObject({ op: 'sum', result: 6, peer: bob.id, nick: 'bob' })
    const call = await http('POST', '/api/call', JSON.stringify({ service: 'greeter', method: 'hello', args: 'Hello' }))
    expect(call.json).toEqual({ result: 'World', peer: bob.id })
  })

  it('GET /api/stats is the node\'s stats with the gateway\'s', async () => {
    const r = await http('GET', '/api/stats')
    expect(r.json).toMatchObject({ id: alice.id, nick: 'alice' })
    expect(r.json.metrics.mesh_http_requests_total).toBeDefined()
    expect(r.json.gateway.served_by[bob.id]).toBeGreaterThan(0)
  })

  it('errors are JSON with 400, 404, 405, 413, 503 and 504', async () => {
    const cases: Array<[Reply, number, RegExp]> = [
      [await http('GET', '/api/primes/count?from=10&to=1'), 400, /from must not be greater than to/],
      [await http('GET', '/api/primes/count?from=1'), 400, /missing query parameter to/],
      [await http('GET', '/api/primes/count?from=x&to=1'), 400, /from must be a whole number/],
      [await http('GET', '/api/primes/test?n=1e400'), 400, /more than 300 digits/],
      [await http('GET', '/api/primes/range?from=1&to=10&limit=100001'), 400, /limit must be from 1 to 100000/],
      [await http('POST', '/api/tasks', '{"kind":"calc","op":"pow","input":[1]}'), 400, /calc operations are/],
      [await http('POST', '/api/tasks', '{"kind":"calc","op":"sum","input":"nope"}'), 400, /list of numbers/],
      [await http('POST', '/api/call', 'not json'), 400, /JSON object/],
      [await http('GET', '/api/nothing'), 404, /no such endpoint/],
      [await http('POST', '/api/peers', '{}'), 405, /takes GET/],
      [await http('POST', '/api/call', Buffer.alloc(300_000, 32)), 413, /larger than 262144 bytes/],
      [await http('POST', '/api/call', JSON.stringify({ service: 'primes', method: 'nosuch' })), 503, /./],
      // Only the work services, and only as JSON: a web page's cross-site text/plain POST is refused.
      [await http('POST', '/api/call', JSON.stringify({ service: 'node', method: 'stats' })), 404, /not offered to clients outside the mesh/],
      [await http('POST', '/api/call', JSON.stringify({ service: 'greeter', method: 'hello', args: 'Hello' }), { 'content-type': 'text/plain' }), 400, /content-type: application\/json/],
      // A page that rebinds its own name to 127.0.0.1 still sends that name.
      [await http('GET', '/api/peers', undefined, { host: 'attacker.example:8080' }), 403, /answers only to the names/],
      [await http('POST', '/api/call', JSON.stringify({ service: 'calc', method: 'sum', args: [1], deadlineMs: 300 })), 504, /./]
    ]
    for (const [reply, status, message] of cases) {
      expect({ status: reply.status, type: reply.type }).toEqual({ status, type: 'application/json; charset=utf-8' })
      expect(reply.json.error).toMatch(message)
    }
    // A body streamed without a length is cut off at the limit too.
    const chunked = await http('POST', '/api/call', Buffer.alloc(300_000, 32), { 'transfer-encoding': 'chunked' })
    expect(chunked.status).toBe(413)
  })

  it('GET / serves the dashboard; a POST from another web site is refused', async () => {
    const r = await http('GET', '/')
    expect(r.status).toBe(200)
    expect(r.type).toBe('text/html; charset=utf-8')
    const foreign = await http('POST', '/api/call', JSON.stringify({ service: 'greeter', method: 'hello', args: 'Hello' }), { origin: 'http://evil.example' })
    expect(foreign.status).toBe(403)
  })

  it('GET /metrics is strict Prometheus text: the node\'s metrics, the gateway\'s and the process\'s', async () => {
    const r = await http('GET', '/metrics')
    expect(r.status).toBe(200)
    expect(r.type).toMatch(/^text\/plain; version=0\.0\.4/)
    const { types, samples } = parsePrometheusText(r.body)
    for (const family of ['mesh_membership_received_total', 'mesh_rpc_requests_total', 'mesh_gateway_requests_total', 'mesh_gateway_request_seconds', 'mesh_http_requests_total', 'process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds']) {
      expect(types.has(family), family).toBe(true)
    }
    expect(types.get('mesh_gateway_request_seconds')).toBe('summary')
    const served = samples.filter(s => s.name === 'mesh_http_requests_total' && s.labels.route === '/api/primes/count' && s.labels.status === '200')
    expect(served[0].value).toBeGreaterThanOrEqual(2)
  })
})
