import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { countOnPool, primesCountMethods, type ShardCounter } from '../../node/jobs/primes-count-service.ts'
import { primesQueryMethods } from '../../node/tasks/primes-query-service.ts'
import type { MeshNode } from '../../node/mesh-node.ts'
import type { RpcContext, RpcMethods } from '../../node/rpc/rpc-types.ts'
import { registerTaskServices, taskServiceMethods } from '../../node/tasks/task-services.ts'
import type { Clock } from '../../node/time/clock.ts'

/**
 * A real node process with test services, composed through createMeshNode's `services` hook
 * so that the shipped node carries no test switches. Run it as MeshProcess's wrapper:
 *
 *   MeshProcess.start({ name, args, prefix: testNodePrefix({ lie: true }) })
 *
 * MeshProcess then runs `node test-node.ts --lie -- node cli/mesh.js start --home … --name …`;
 * this script runs that `mesh start` in-process, as `mesh start` does without a terminal,
 * with the test services its own flags (before `--`) choose.
 */
export interface TestNodeOptions {
  /** primes.count answers every shard with a count one too high: the liar verify mode must catch. */
  lie?: boolean
  /** Every calc/text/greeter handler waits this long (abortably) first, so a test can hurt the peer mid-call. */
  taskDelayMs?: number
  /** Serves no calc/text/greeter at all, so the node's task calls must go to other peers. */
  noTaskServices?: boolean
}

export const TEST_NODE_SCRIPT = fileURLToPath(import.meta.url)

/** The `prefix` of MeshProcess.start that makes the node a test node with these services. */
export function testNodePrefix (options: TestNodeOptions): string[] {
  const flags: string[] = []
  if (options.lie === true) flags.push('--lie')
  if (options.taskDelayMs != null) flags.push('--task-delay-ms', String(options.taskDelayMs))
  if (options.noTaskServices === true) flags.push('--no-task-services')
  return [process.execPath, TEST_NODE_SCRIPT, ...flags, '--']
}

/** Registers the standard services, changed as `options` says. */
export function registerTestServices (node: MeshNode, options: TestNodeOptions): void {
  const clock = node.config.clock
  if (options.noTaskServices !== true) {
    const services = taskServiceMethods()
    const delayMs = options.taskDelayMs ?? 0
    registerTaskServices(node.rpc, delayMs > 0 ? Object.fromEntries(Object.entries(services).map(([name, methods]) => [name, withDelay(methods, delayMs, clock)])) : services)
  }
  const honest: ShardCounter = async (range, signal, onProgress) => await countOnPool(node.pool, range.from, range.to, signal, onProgress)
  const lying: ShardCounter = async (range, signal, onProgress) => {
    const { result, seconds } = await honest(range, signal, onProgress)
    return { result: { ...result, count: result.count + 1n }, seconds }
  }
  node.rpc.register('primes', {
    ...primesCountMethods({ pool: node.pool, metrics: node.metrics, clock }, { count: options.lie === true ? lying : honest }),
    ...primesQueryMethods(node.pool)
  }, { idempotent: true })
}

function withDelay (methods: RpcMethods, delayMs: number, clock: Clock): RpcMethods {
  return Object.fromEntries(Object.entries(methods).map(([name, handler]) => [name, async (args: unknown, ctx: RpcContext) => {
    await clock.sleep(delayMs, ctx.signal)
    return await handler(args, ctx)
  }]))
}

/** The options of `mesh start` that the tests use; anything else is an error. */
async function runTestNode (argv: string[]): Promise<void> {
  const split = argv.indexOf('--')
  if (split < 0) throw new Error('usage: test-node.ts [--lie] [--task-delay-ms N] [--no-task-services] -- <mesh start command line>')
  const own = parseArgs({
    args: argv.slice(0, split),
    options: { lie: { type: 'boolean' }, 'task-delay-ms': { type: 'string' }, 'no-task-services': { type: 'boolean' } }
  }).values
  const command = argv.slice(split + 1)
  const start = command.indexOf('start')
  if (start < 0) throw new Error(`test-node.ts runs \`mesh start\`, not: ${command.join(' ')}`)
  const { values: opts } = parseArgs({
    args: command.slice(start + 1),
    options: {
      home: { type: 'string' },
      name: { type: 'string' },
      listen: { type: 'string', multiple: true },
      bootstrap: { type: 'string', multiple: true },
      'no-mdns': { type: 'boolean' },
      workers: { type: 'string' },
      heartbeat: { type: 'string' },
      'swarm-key': { type: 'string' },
      gateway: { type: 'string' },
      http: { type: 'string' },
      'gateway-max-connections': { type: 'string' },
      'gateway-idle-timeout': { type: 'string' }
    }
  })
  if (opts.home == null) throw new Error('--home is required')
  // Loaded here: the tests that import this file for testNodePrefix need none of libp2p.
  const { createMeshNode } = await import('../../node/mesh-node.ts')
  const { readSwarmKey } = await import('../../node/libp2p/swarm-key.ts')
  const { installCrashGuard } = await import('../../cli/crash-guard.ts')
  const options: TestNodeOptions = {
    lie: own.lie,
    taskDelayMs: own['task-delay-ms'] != null ? Number(own['task-delay-ms']) : undefined,
    noTaskServices: own['no-task-services']
  }
  const node = await createMeshNode({
    home: opts.home,
    nick: opts.name,
    listen: opts.listen,
    bootstrap: opts.bootstrap,
    mdns: opts['no-mdns'] !== true,
    workers: opts.workers != null ? Number(opts.workers) : undefined,
    heartbeatMs: opts.heartbeat != null ? Number(opts.heartbeat) : undefined,
    swarmKey: opts['swarm-key'] != null ? await readSwarmKey(opts['swarm-key']) : undefined,
    gateway: opts.gateway,
    http: opts.http,
    gatewayMaxConnections: opts['gateway-max-connections'] != null ? Number(opts['gateway-max-connections']) : undefined,
    gatewayIdleTimeoutMs: opts['gateway-idle-timeout'] != null ? Number(opts['gateway-idle-timeout']) : undefined
  }, { services: n => { registerTestServices(n, options) } })
  installCrashGuard(node)
  process.stdout.write(`${node.config.nick} ${node.peerId} started (test node: ${JSON.stringify(options)})\n`)
  for (const addr of node.addrs()) process.stdout.write(`listening on ${addr}\n`)
  await new Promise<void>(resolve => {
    const stop = (signal: string): void => {
      process.stdout.write(`${signal}: leaving the mesh\n`)
      node.shutdown().catch(() => {}).finally(resolve)
    }
    process.once('SIGINT', () => { stop('SIGINT') })
    process.once('SIGTERM', () => { stop('SIGTERM') })
  })
}

if (import.meta.main) {
  await runTestNode(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`test-node: ${err.message}\n`)
    process.exitCode = 1
  })
}
