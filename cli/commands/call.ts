import type { Command } from 'commander'
import { callNode, ControlCallError } from '../control-client.ts'
import { displayPeerId } from '../../node/peers/peer-names.ts'
import { PEER_NAME_ERRORS, UsageError, WorkFailedError } from '../errors.ts'
import { homeOf, parsePositiveInt, PEER_NAME_HELP, withHome, withJson } from '../options.ts'
import { terminalSafe } from '../terminal-safe.ts'
import { printJson } from '../output.ts'

const SERVICE_METHOD = /^([a-z][a-z0-9_-]{0,31})\.([a-z][a-z0-9_-]{0,31})$/

export interface CallReply {
  result: unknown
  peer: string
  nick: string | null
  attempts: number
}

/** "from bob …a1b2c3": who answered, for stderr. */
export function answeredBy (reply: { peer: string, nick: string | null }): string {
  return `from ${reply.nick ?? '?'} ${displayPeerId(reply.peer)}`
}

/**
 * Asks the node to run an rpc; an error the mesh answered with becomes one line in its own
 * words, exit 1 (a script that must tell errors apart reads the name from `--json`). A peer
 * name that matches no peer or several is a wrong argument: exit 2.
 */
export async function callThroughNode<T> (home: string, method: string, params: Record<string, unknown>): Promise<T> {
  try {
    return await callNode<T>(home, method, params)
  } catch (err) {
    if (err instanceof ControlCallError) {
      if (PEER_NAME_ERRORS.has(err.name)) throw new UsageError(err.message)
      throw new RemoteCallFailedError(err.name, err.message)
    }
    throw err
  }
}

/** An error the mesh answered a call with: `name` is the error's kind, for scripts. */
export class RemoteCallFailedError extends WorkFailedError {
  readonly errorName: string
  constructor (errorName: string, message: string) {
    super(message)
    this.errorName = errorName
  }
}

/** `mesh call SERVICE.METHOD [JSON]`: any rpc method of the mesh, through the running node. */
export function registerCallCommand (program: Command): void {
  const cmd = program.command('call <service.method> [json]')
    .description('call an rpc method on whichever peer offers it, e.g. mesh call greeter.hello \'"Hello"\'')
    .option('--peer <peer>', `call this peer only: ${PEER_NAME_HELP}`)
    .option('--timeout <ms>', 'give up after this many ms, retries included', parsePositiveInt('--timeout', 3_600_000))
  withJson(withHome(cmd))
  cmd.action(async (target: string, json: string | undefined, opts) => {
    const match = SERVICE_METHOD.exec(target)
    if (match == null) throw new UsageError(`${target} is not SERVICE.METHOD (like greeter.hello)`)
    let args: unknown = null
    if (json != null) {
      try {
        args = JSON.parse(json)
      } catch {
        throw new UsageError(`the arguments must be JSON (a string needs quotes: '"Hello"'), got ${json.slice(0, 60)}`)
      }
    }
    const reply = await callThroughNode<CallReply>(homeOf(opts), 'rpc.call', {
      service: match[1],
      method: match[2],
      args,
      ...(opts.peer != null ? { peer: opts.peer } : {}),
      ...(opts.timeout != null ? { deadlineMs: opts.timeout } : {})
    }).catch((err: Error) => {
      // For scripts, the error as JSON on stdout too: its kind and its words.
      if (opts.json === true && err instanceof RemoteCallFailedError) printJson({ error: err.errorName, message: err.message })
      throw err
    })
    if (opts.json === true) return printJson({ result: reply.result, peer: reply.peer })
    // A peer's answer: JSON escapes C0 controls but not DEL, C1 or bidi ones.
    process.stdout.write(terminalSafe(JSON.stringify(reply.result)) + '\n')
    process.stderr.write(terminalSafe(answeredBy(reply)) + '\n')
  })
}
