import { connect } from 'node:net'
import { join } from 'node:path'
import { CONTROL_PROTOCOL_VERSION, CONTROL_SOCKET_FILE, readLines, type ControlResponse } from '../protocols/control/index.ts'
import { WorkFailedError } from './errors.ts'

/** The node answered with a named error. */
export class ControlCallError extends Error {
  constructor (name: string, message: string) {
    super(message)
    this.name = name
  }
}

/** No node runs in that home: the CLI says so and how to start one (exit 1). */
export class NoNodeRunningError extends WorkFailedError {
  override name = 'NoNodeRunningError'
}

/** Sends one request to the node in `home` and yields its responses until the last. */
async function * exchange (home: string, method: string, params: Record<string, unknown>, signal?: AbortSignal): AsyncGenerator<ControlResponse> {
  const path = join(home, CONTROL_SOCKET_FILE)
  const socket = connect(path)
  const onAbort = (): void => { socket.destroy() }
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', (err: any) => {
        if (err?.code === 'ENOENT' || err?.code === 'ECONNREFUSED') {
          reject(new NoNodeRunningError(`no node runs in ${home}; start one with: mesh start --home ${home}`))
        } else {
          reject(err)
        }
      })
    })
    socket.write(JSON.stringify({ v: CONTROL_PROTOCOL_VERSION, method, params }) + '\n')
    for await (const line of readLines(socket)) {
      yield JSON.parse(line) as ControlResponse
    }
  } finally {
    signal?.removeEventListener('abort', onAbort)
    socket.destroy()
  }
}

/** One request, one answer. */
export async function callNode<T = any> (home: string, method: string, params: Record<string, unknown> = {}): Promise<T> {
  for await (const response of exchange(home, method, params)) {
    if ('error' in response) throw new ControlCallError(response.error.name, response.error.message)
    if ('result' in response) return response.result as T
  }
  throw new WorkFailedError('the node closed the control socket without answering')
}

/** A streamed answer (`chat tail`): yields events until the node ends the stream or `signal` aborts. */
export async function * streamFromNode<T = any> (home: string, method: string, params: Record<string, unknown> = {}, signal?: AbortSignal): AsyncGenerator<T> {
  for await (const response of exchange(home, method, params, signal)) {
    if ('error' in response) throw new ControlCallError(response.error.name, response.error.message)
    if ('end' in response) return
    if ('event' in response) yield response.event as T
  }
}
