import { availableParallelism } from 'node:os'
import { InvalidArgumentError, type Command } from 'commander'
import { DEFAULT_FORK_CHILDREN, ECHO_MODELS, type EchoCounters, type EchoModel, type EchoServer, MAX_WORKERS, PortInUseError, EchoStartError, startEchoServer } from '../../loadtest/echo/index.ts'
import { WorkFailedError } from '../errors.ts'
import { parsePositiveInt, withJson } from '../options.ts'
import { printJson } from '../output.ts'

interface EchoOptions { port: number, host: string, model: EchoModel, workers?: number, json?: boolean }

/** `mesh echo`: an echo server in one of the four concurrency models, until SIGINT/SIGTERM. */
export function registerEchoCommand (program: Command): void {
  withJson(program.command('echo'))
    .description('an echo server: one event loop, a process per connection, cluster processes or threads')
    .requiredOption('--port <port>', 'TCP port (0 picks a free one)', parsePort)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--model <model>', `${ECHO_MODELS.join('|')}`, parseModel, 'event')
    .option('--workers <n>', `cluster: processes, threads: threads (default one per core); fork: most live children (default ${DEFAULT_FORK_CHILDREN})`, parsePositiveInt('--workers', MAX_WORKERS))
    .action(async (opts: EchoOptions) => { await runEcho(opts) })
}

async function runEcho (opts: EchoOptions): Promise<void> {
  const workers = opts.workers ?? (opts.model === 'fork' ? DEFAULT_FORK_CHILDREN : opts.model === 'event' ? 1 : availableParallelism())
  let server: EchoServer
  try {
    server = await startEchoServer(opts.model, { host: opts.host, port: opts.port, workers })
  } catch (err) {
    if (err instanceof PortInUseError || err instanceof EchoStartError) throw new WorkFailedError(err.message)
    throw err
  }
  if (opts.json === true) printJson({ event: 'listening', model: server.model, host: server.host, port: server.port, pid: server.pid, workers: server.workers })
  else process.stdout.write(`echo server (${server.model}${describeWorkers(server.model, server.workers)}) on ${server.host}:${server.port}, pid ${server.pid}\n`)

  const signal = await new Promise<string>(resolve => {
    process.once('SIGINT', () => { resolve('SIGINT') })
    process.once('SIGTERM', () => { resolve('SIGTERM') })
  })
  const counters = await server.stop()
  if (opts.json === true) printJson({ event: 'stopped', signal, model: server.model, ...counters })
  else process.stdout.write(describeCounters(counters) + '\n')
}

function describeWorkers (model: EchoModel, workers: number): string {
  if (model === 'event') return ''
  if (model === 'fork') return `, at most ${workers} children`
  return `, ${workers} ${model === 'cluster' ? 'processes' : 'threads'}`
}

function describeCounters (c: EchoCounters): string {
  return `stopped: ${c.connections} connections (peak ${c.peakConnections} at once), ${c.bytesIn} bytes echoed, ` +
    `${c.resets} resets, ${c.idleTimeouts} idle timeouts, ${c.rejected} rejected`
}

function parsePort (value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`--port must be a whole number from 0 to 65535, got "${value}"`)
  const port = Number(value)
  if (port > 65535) throw new InvalidArgumentError(`--port must be from 0 to 65535, got ${value}`)
  return port
}

function parseModel (value: string): EchoModel {
  if (!(ECHO_MODELS as readonly string[]).includes(value)) throw new InvalidArgumentError(`--model must be one of ${ECHO_MODELS.join(', ')}, got "${value}"`)
  return value as EchoModel
}
