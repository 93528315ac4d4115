import { InvalidArgumentsError } from '../../protocols/rpc/index.ts'
import type { ControlServer } from '../control/control-server.ts'
import { defaultLogger, type Log, type MeshLogger } from '../logging/logger.ts'
import type { MeshRpc } from '../rpc/mesh-rpc.ts'
import { callOptionsFrom, nickOf, type KnownPeers } from '../rpc/rpc-control.ts'
import type { RpcCallOptions, RpcMethods } from '../rpc/rpc-types.ts'
import type { MeshDatabase } from '../store/database.ts'
import { systemClock, type Clock } from '../time/clock.ts'
import { CALC_OPS, calcMethods } from './calc-service.ts'
import { greeterMethods } from './greeter-service.ts'
import { DEFAULT_RESULTS_LIMIT, TaskStore } from './task-store.ts'
import { TEXT_OPS, textMethods } from './text-service.ts'

const OPS: Record<string, readonly string[]> = { calc: CALC_OPS, text: TEXT_OPS }
const MAX_RESULTS_LIMIT = 1000

/** The small tasks every node serves by default, by service name: calc.*, text.*, greeter.hello. */
export function taskServiceMethods (): Record<string, RpcMethods> {
  return { calc: calcMethods(), text: textMethods(), greeter: greeterMethods() }
}

/**
 * Serves the task services on the rpc. They are pure and idempotent, so the client may retry
 * them on any peer.
 */
export function registerTaskServices (rpc: Pick<MeshRpc, 'register'>, services: Record<string, RpcMethods> = taskServiceMethods()): void {
  for (const [name, methods] of Object.entries(services)) rpc.register(name, methods, { idempotent: true })
}


export interface TaskControlComponents {
  rpc: Pick<MeshRpc, 'call' | 'registry'>
  control: Pick<ControlServer, 'register'>
  /** Who is who, to resolve `--peer` and name the peer that answered (the rpc knows). */
  peers: KnownPeers
  /** Keeps the results of the tasks run from this home. */
  db: MeshDatabase
  clock?: Clock
  logger?: MeshLogger
}

/**
 * The CLI's side of the tasks: `tasks.run` (a task sent to whichever peer the balancer
 * picks, its result stored in this home's db) and `tasks.results`. Works whether or not
 * this node serves the task services itself.
 */
export function registerTaskControl (components: TaskControlComponents): TaskRunner {
  const { rpc, control, peers } = components
  const clock = components.clock ?? systemClock
  const log = (components.logger ?? defaultLogger).forComponent('tasks')
  // Same code on every node: the task methods may be retried even by a node serving none.
  for (const [name, methods] of Object.entries(taskServiceMethods())) rpc.registry.noteIdempotency(name, Object.keys(methods), true)
  const tasks = new TaskRunner({ rpc, peers, store: new TaskStore(components.db), clock, log })

  control.register('tasks.run', async (params, signal) => {
    const { kind, op } = params
    if (typeof kind !== 'string' || OPS[kind] == null) throw new InvalidArgumentsError(`kind must be one of ${Object.keys(OPS).join(', ')}`)
    if (typeof op !== 'string' || !OPS[kind].includes(op)) throw new InvalidArgumentsError(`${kind} operations are ${OPS[kind].join(', ')}`)
    return await tasks.run(kind, op, params.input ?? null, callOptionsFrom(params, peers, signal))
  })

  control.register('tasks.results', async (params) => {
    const limit = params.limit ?? DEFAULT_RESULTS_LIMIT
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_RESULTS_LIMIT) {
      throw new InvalidArgumentsError(`limit must be from 1 to ${MAX_RESULTS_LIMIT}`)
    }
    return { results: tasks.store.list(limit) }
  })
  return tasks
}

/** A task's answer: the result, the peer that computed it and its nick, after how many attempts. */
export interface TaskReply {
  op: string
  result: unknown
  peer: string
  nick: string | null
  attempts: number
}

/**
 * Runs calc and text tasks on the mesh and records every outcome, result or error, in this
 * home's task store: a task is balanced, retried and listed by `mesh task results` the same
 * whether `mesh task` sent it through the control socket or the node's own shell asked.
 */
export class TaskRunner {
  readonly store: TaskStore
  private readonly rpc: Pick<MeshRpc, 'call'>
  private readonly peers: KnownPeers
  private readonly clock: Clock
  private readonly log: Log

  constructor (components: { rpc: Pick<MeshRpc, 'call'>, peers: KnownPeers, store: TaskStore, clock: Clock, log: Log }) {
    this.rpc = components.rpc
    this.peers = components.peers
    this.store = components.store
    this.clock = components.clock
    this.log = components.log
  }

  async run (kind: string, op: string, input: unknown, opts: RpcCallOptions): Promise<TaskReply> {
    // A duration, not a point in time: the monotonic clock, which no wall-clock step moves.
    const started = performance.now()
    try {
      const reply = await this.rpc.call(kind, op, input, opts)
      const nick = nickOf(reply.peer, this.peers)
      const ms = performance.now() - started
      this.store.record({ at: this.clock.now(), kind, op, input, ok: true, result: reply.result, peer: reply.peer, nick, ms })
      this.log('%s.%s answered by %s in %d ms', kind, op, reply.peer, Math.round(ms))
      return { op, result: reply.result, peer: reply.peer, nick, attempts: reply.attempts }
    } catch (err: any) {
      const lastPeer: string | null = err?.attempts?.at(-1)?.peer ?? err?.peer ?? opts.peer ?? null
      this.store.record({
        at: this.clock.now(), kind, op, input, ok: false,
        error: { name: String(err?.name ?? 'Error'), message: String(err?.message ?? err) },
        peer: lastPeer, nick: lastPeer != null ? nickOf(lastPeer, this.peers) : null, ms: performance.now() - started
      })
      this.log('%s.%s failed: %s', kind, op, err?.message)
      throw err
    }
  }
}
