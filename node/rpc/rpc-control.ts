import { InvalidArgumentsError, MAX_DEADLINE_MS } from '../../protocols/rpc/index.ts'
import type { ControlServer } from '../control/control-server.ts'
import { resolvePeerName, type NamedPeer } from '../peers/peer-names.ts'
import type { MeshRpc } from './mesh-rpc.ts'
import type { RpcCallOptions } from './rpc-types.ts'

/** The CLI's default: long enough for a slow peer and two fallbacks, short enough to wait for. */
export const CLI_DEFAULT_DEADLINE_MS = 15_000

/** Whom a user may name: every member this node knows of, itself included (MeshRpc is one). */
export interface KnownPeers {
  peers: () => readonly NamedPeer[]
}

/**
 * Options a control request may set on a call: `deadlineMs`, and `peer` named as anywhere
 * else (full id, id suffix, nick or nick#suffix; UnknownPeerError / AmbiguousPeerError).
 */
export function callOptionsFrom (params: Record<string, unknown>, known: KnownPeers, signal: AbortSignal): RpcCallOptions {
  const opts: RpcCallOptions = { signal, deadlineMs: CLI_DEFAULT_DEADLINE_MS }
  if (params.peer != null) {
    if (typeof params.peer !== 'string' || params.peer === '') throw new InvalidArgumentsError('peer must be a nick or a peer id')
    opts.peer = resolvePeerName(params.peer, known.peers()).id
  }
  if (params.deadlineMs != null) {
    const d = params.deadlineMs
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > MAX_DEADLINE_MS) throw new InvalidArgumentsError(`deadlineMs must be from 1 to ${MAX_DEADLINE_MS}`)
    opts.deadlineMs = d
  }
  return opts
}

export function nickOf (id: string, known: KnownPeers): string | null {
  return known.peers().find(p => p.id === id)?.nick ?? null
}

/**
 * `rpc.call` on the control socket (`mesh call`): {service, method, args, peer?, deadlineMs?}
 * -> {result, peer, nick, attempts}. Errors travel back by name.
 */
export function registerRpcControl (control: ControlServer, rpc: MeshRpc): void {
  control.register('rpc.call', async (params, signal) => {
    const { service, method } = params
    if (typeof service !== 'string' || typeof method !== 'string') throw new InvalidArgumentsError('rpc.call needs a service and a method')
    const reply = await rpc.call(service, method, params.args ?? null, callOptionsFrom(params, rpc, signal))
    return { result: reply.result, peer: reply.peer, nick: nickOf(reply.peer, rpc), attempts: reply.attempts }
  })
}
