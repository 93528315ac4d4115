import type { ControlServer } from '../control/control-server.ts'
import type { MembershipService } from '../membership/membership-service.ts'
import type { MeshRpc } from '../rpc/mesh-rpc.ts'
import type { RpcCallOptions } from '../rpc/rpc-types.ts'
import { callOptionsFrom, nickOf } from '../rpc/rpc-control.ts'
import type { MeshDatabase } from '../store/database.ts'
import { InvalidArgumentsError } from '../../protocols/rpc/index.ts'
import { CALC_OPS, calcMethods } from './calc-service.ts'
import { greeterMethods } from './greeter-service.ts'
import { TaskStore } from './task-store.ts'
import { taskTestHooks, withDelay, type TaskTestHooks } from './test-hooks.ts'
import { TEXT_OPS, textMethods } from './text-service.ts'

export interface TaskServicesComponents {
  rpc: MeshRpc
  control: ControlServer
  membership: MembershipService
  db: MeshDatabase
}

const OPS: Record<string, readonly string[]> = { calc: CALC_OPS, text: TEXT_OPS }
const DEFAULT_RESULTS_LIMIT = 50
const MAX_RESULTS_LIMIT = 1000

/**
 * The seed task system on the rpc: serves calc.*, text.* and greeter.hello (all pure and
 * idempotent, so the client may retry them anywhere), and gives the CLI `tasks.run` (a
 * task sent to whichever peer the balancer picks, its result stored in this home's db)
 * and `tasks.results`.
 */
export function registerTaskServices (components: TaskServicesComponents, hooks: TaskTestHooks = taskTestHooks()): TaskRunner {
  const { rpc, control, membership } = components
  const services = { calc: calcMethods(), text: textMethods(), greeter: greeterMethods() }
  for (const [name, methods] of Object.entries(services)) {
    if (hooks.serve) rpc.register(name, withDelay(methods, hooks.delayMs), { idempotent: true })
    else rpc.registry.noteIdempotency(name, Object.keys(methods), true)
  }
  const store = new TaskStore(components.db)
  const tasks = new TaskRunner({ rpc, membership, store })

  control.register('tasks.run', async (params, signal) => {
    const { kind, op } = params
    if (typeof kind !== 'string' || OPS[kind] == null) throw new InvalidArgumentsError(`kind must be one of ${Object.keys(OPS).join(', ')}`)
    if (typeof op !== 'string' || !OPS[kind].includes(op)) throw new InvalidArgumentsError(`${kind} operations are ${OPS[kind].join(', ')}`)
    return await tasks.run(kind, op, params.input ?? null, callOptionsFrom(params, membership, signal))
  })

  control.register('tasks.results', async (params) => {
    const limit = params.limit ?? DEFAULT_RESULTS_LIMIT
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_RESULTS_LIMIT) {
      throw new InvalidArgumentsError(`limit must be from 1 to ${MAX_RESULTS_LIMIT}`)
    }
    return { results: store.list(limit) }
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
  private readonly rpc: MeshRpc
  private readonly membership: MembershipService

  constructor (components: { rpc: MeshRpc, membership: MembershipService, store: TaskStore }) {
    this.rpc = components.rpc
    this.membership = components.membership
    this.store = components.store
  }

  async run (kind: string, op: string, input: unknown, opts: RpcCallOptions): Promise<TaskReply> {
    const started = performance.now()
    try {
      const reply = await this.rpc.call(kind, op, input, opts)
      const nick = nickOf(reply.peer, this.membership)
      this.store.record({ at: Date.now(), kind, op, input, ok: true, result: reply.result, peer: reply.peer, nick, ms: performance.now() - started })
      return { op, result: reply.result, peer: reply.peer, nick, attempts: reply.attempts }
    } catch (err: any) {
      const lastPeer: string | null = err?.attempts?.at(-1)?.peer ?? err?.peer ?? opts.peer ?? null
      this.store.record({
        at: Date.now(), kind, op, input, ok: false,
        error: { name: String(err?.name ?? 'Error'), message: String(err?.message ?? err) },
        peer: lastPeer, nick: lastPeer != null ? nickOf(lastPeer, this.membership) : null, ms: performance.now() - started
      })
      throw err
    }
  }
}
