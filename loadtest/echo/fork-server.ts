import { fork, type ChildProcess } from 'node:child_process'
import { createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { addCounters, emptyCounters, isCounters } from './counters.ts'
import type { EchoServer, EchoServerInit } from './echo-server.ts'
import { listen } from './event-server.ts'
import { FORK_WAITING_LIMIT, MAX_CONNECTIONS } from './constants.ts'
import { scriptEntry } from '../../node/script-entry.ts'

const CHILD_SCRIPT = scriptEntry('fork-child', new URL('./fork-child.ts', import.meta.url))
/**
 * Children share V8's compile cache (in Node's own default place unless the user set one):
 * a child then starts in about half the time (36 ms against 84 ms measured here), and
 * start-up is most of what a connection costs this model.
 */
const CHILD_ENV = { ...process.env, NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? join(tmpdir(), 'node-compile-cache') }

/**
 * The fork model: the parent accepts, starts a new process for each connection and hands it
 * the socket (over the IPC channel, so the child owns the very connection the parent
 * accepted), as a forked server does. At most `workers` children live at once; later
 * connections wait, unread, for a child to finish.
 */
export async function startForkServer (init: EchoServerInit): Promise<EchoServer> {
  const totals = emptyCounters()
  const children = new Set<ChildProcess>()
  const waiting: Socket[] = []
  let peak = 0
  let stopping = false

  const notePeak = (): void => { peak = Math.max(peak, children.size + waiting.length) }

  const spawnFor = (socket: Socket): void => {
    const child = fork(CHILD_SCRIPT, [], { execArgv: [], env: CHILD_ENV, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
    children.add(child)
    let reported = false
    child.on('message', (message: { type?: string, counters?: unknown }) => {
      if (message?.type === 'ready') {
        if (socket.destroyed) { child.send({ type: 'stop' }); return }
        child.send({ type: 'socket' }, socket)
      } else if (message?.type === 'counters' && isCounters(message.counters) && !reported) {
        reported = true
        addCounters(totals, message.counters)
      }
    })
    child.on('error', () => { socket.destroy() })
    // 'close', not 'exit': it comes after the IPC channel is drained, so the counters are in.
    child.on('close', () => {
      children.delete(child)
      // A child that died without reporting lost its connection.
      if (!reported) { totals.connections++; totals.resets++; socket.destroy() }
      const next = waiting.shift()
      if (next != null && !stopping) spawnFor(next)
      if (stopping && children.size === 0) onIdle?.()
    })
  }

  let onIdle: (() => void) | null = null
  // pauseOnConnect: the parent never reads a byte, so the child sees the stream from its start.
  const server = createServer({ pauseOnConnect: true, allowHalfOpen: true, noDelay: true }, socket => {
    if (children.size < init.workers) spawnFor(socket)
    else if (waiting.length < FORK_WAITING_LIMIT) {
      waiting.push(socket)
      socket.on('close', () => {
        const at = waiting.indexOf(socket)
        if (at >= 0) waiting.splice(at, 1)
      })
    } else {
      totals.rejected++
      socket.destroy()
    }
    notePeak()
  })
  server.maxConnections = MAX_CONNECTIONS
  server.on('drop', () => { totals.rejected++ })
  const port = await listen(server, init.host, init.port)

  const counters = () => ({ ...totals, peakConnections: peak })
  return {
    model: 'fork',
    host: init.host,
    port,
    pid: process.pid,
    workers: init.workers,
    counters,
    stop: async () => {
      stopping = true
      // Not awaited: close()'s callback waits on every child that was ever sent a socket to
      // confirm over IPC, and children that already exited never answer. The listening socket
      // is closed at once either way; the children are awaited below.
      server.close()
      for (const socket of waiting.splice(0)) socket.destroy()
      const idle = new Promise<void>(resolve => {
        onIdle = resolve
        if (children.size === 0) resolve()
      })
      for (const child of children) if (child.connected) child.send({ type: 'stop' })
      // A child that has exited but whose IPC channel is still draining holds nothing that keeps
      // this process alive: without a timer the event loop could run dry before its 'close'.
      const keepAlive = setInterval(() => {}, 1000)
      await idle
      clearInterval(keepAlive)
      return counters()
    }
  }
}
