import { connect, type Socket } from 'node:net'
import type { MeshProcess } from './mesh-process.ts'
import { waitUntil } from './wait.ts'

/** Where a node's gateway listens, from the role its heartbeats advertise (`gateway=HOST:PORT`). */
export async function gatewayAddress (node: MeshProcess, role = 'gateway'): Promise<{ host: string, port: number }> {
  let found: { host: string, port: number } | undefined
  await waitUntil(`${node.name} to advertise its ${role} role`, async () => {
    const { members } = await node.peers()
    const roles: string[] = (members.find(m => m.id === node.id) as any)?.roles ?? []
    const r = roles.find(x => x.startsWith(`${role}=`))
    if (r == null) return false
    const m = /^[a-z]+=(.+):(\d+)$/.exec(r)
    if (m == null) return false
    found = { host: m[1], port: Number(m[2]) }
    return true
  }, 20_000)
  return found as { host: string, port: number }
}

/** A line-protocol client: send lines, read JSON answers in order. */
export class GatewayClient {
  readonly socket: Socket
  private buffer = ''
  private readonly answers: unknown[] = []
  private waiters: Array<() => void> = []
  closed = false

  private constructor (socket: Socket) {
    this.socket = socket
    socket.setEncoding('utf8')
    socket.on('data', (text: string) => {
      this.buffer += text
      for (let i = this.buffer.indexOf('\n'); i >= 0; i = this.buffer.indexOf('\n')) {
        this.answers.push(JSON.parse(this.buffer.slice(0, i)))
        this.buffer = this.buffer.slice(i + 1)
      }
      this.wake()
    })
    socket.on('close', () => { this.closed = true; this.wake() })
    socket.on('error', () => {})
  }

  static async connect (address: { host: string, port: number }): Promise<GatewayClient> {
    const socket = connect(address)
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
    return new GatewayClient(socket)
  }

  private wake (): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  send (...lines: Array<string | Buffer>): void {
    for (const l of lines) this.socket.write(typeof l === 'string' ? l + '\n' : l)
  }

  /** The next `n` answers (waits up to timeoutMs). */
  async read (n = 1, timeoutMs = 30_000): Promise<any[]> {
    const until = Date.now() + timeoutMs
    while (this.answers.length < n) {
      if (this.closed) throw new Error(`connection closed after ${this.answers.length} of ${n} answers`)
      if (Date.now() > until) throw new Error(`timed out with ${this.answers.length} of ${n} answers`)
      await new Promise<void>(resolve => {
        this.waiters.push(resolve)
        setTimeout(resolve, 200)
      })
    }
    return this.answers.splice(0, n)
  }

  /** Sends the lines and returns their answers. */
  async ask (...lines: string[]): Promise<any[]> {
    this.send(...lines)
    return await this.read(lines.length)
  }

  close (): void {
    this.socket.destroy()
  }
}
