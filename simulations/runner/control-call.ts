import { connect } from 'node:net'
import { join } from 'node:path'
import { CONTROL_PROTOCOL_VERSION, CONTROL_SOCKET_FILE, readLines, type ControlResponse } from '../../protocols/control/index.ts'

/**
 * The runner's own client of a node's control socket. The socket is a file in the node's
 * home, so it reaches a node in any network namespace and no partition can cut it: the
 * control plane stays off the data network, as Jepsen keeps SSH off its cuts.
 */
export class NodeCallError extends Error {
  constructor (name: string, message: string) {
    super(message)
    this.name = name
  }
}

/** The node did not answer in time: the outcome is unknown (Jepsen's `info`). */
export class NodeCallTimeoutError extends Error {
  override name = 'NodeCallTimeoutError'
}

/** The node is not there (killed, left, not started): the request was never taken. */
export class NodeDownError extends Error {
  override name = 'NodeDownError'
}

/**
 * Sends one request and hands each response line to `onResponse` until it returns true (done),
 * the node ends the stream, or `timeoutMs` passes.
 */
async function exchange (home: string, method: string, params: Record<string, unknown>, timeoutMs: number, onResponse: (r: ControlResponse) => boolean): Promise<void> {
  const socket = connect(join(home, CONTROL_SOCKET_FILE))
  const timer = setTimeout(() => { socket.destroy(new NodeCallTimeoutError(`${method}: no answer within ${timeoutMs} ms`)) }, timeoutMs)
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', (err: any) => {
        reject(err?.code === 'ENOENT' || err?.code === 'ECONNREFUSED' ? new NodeDownError(`${method}: the node is not running`) : err)
      })
    })
    socket.write(JSON.stringify({ v: CONTROL_PROTOCOL_VERSION, method, params }) + '\n')
    for await (const line of readLines(socket)) {
      const response = JSON.parse(line) as ControlResponse
      if ('error' in response) throw new NodeCallError(response.error.name, response.error.message)
      if (onResponse(response)) return
    }
    throw new NodeCallError('ControlClosedError', `${method}: the node closed the socket without answering`)
  } catch (err: any) {
    if (socket.errored instanceof NodeCallTimeoutError) throw socket.errored
    throw err
  } finally {
    clearTimeout(timer)
    socket.destroy()
  }
}

/** One request, one answer. */
export async function callNode<T = any> (home: string, method: string, params: Record<string, unknown>, timeoutMs: number): Promise<T> {
  let result: unknown
  await exchange(home, method, params, timeoutMs, r => {
    if (!('result' in r)) return false
    result = r.result
    return true
  })
  return result as T
}

/** A streamed request: returns the first event for which `done(event)` is true. */
export async function streamUntil<T = any> (home: string, method: string, params: Record<string, unknown>, timeoutMs: number, done: (event: any) => boolean): Promise<T> {
  let found: unknown
  await exchange(home, method, params, timeoutMs, r => {
    if ('end' in r) throw new NodeCallError('StreamEndedError', `${method}: the stream ended before its result`)
    if (!('event' in r) || !done(r.event)) return false
    found = r.event
    return true
  })
  return found as T
}

/** `Name: message` on one line, for the history. */
export function errorLine (err: any): string {
  return `${String(err?.name ?? 'Error')}: ${String(err?.message ?? err).split('\n')[0].slice(0, 200)}`
}
