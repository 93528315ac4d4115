import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { monitorEventLoopDelay, type ELDHistogram } from 'node:perf_hooks'
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8'
import type { MeshLibp2p } from '../libp2p/create-libp2p.ts'
import type { PeerBlocklist } from '../libp2p/peer-blocklist.ts'
import type { MemberView } from '../membership/member-view.ts'
import { systemClock, type Clock } from '../time/clock.ts'
import type { ControlServer } from './control-server.ts'

export interface TestHooksDeps {
  libp2p: Pick<MeshLibp2p, 'dial' | 'hangUp'>
  blocklist: PeerBlocklist
  /** Where a healed peer's addresses come from. */
  membership: Pick<MemberView, 'member'>
  /** The gap between redials. Default systemClock. */
  clock?: Clock
}

/** Tries a few times: the peer may lift its side of the cut a moment after we lift ours. */
const REDIAL_ATTEMPTS = 10
const REDIAL_GAP_MS = 100
/** Like the connector's dials, a real-time bound on network I/O. */
const DIAL_TIMEOUT_MS = 5000
/** How long a cut waits for a connection across it to close gracefully before aborting it. */
const CUT_CLOSE_MS = 1000

/**
 * `test.block`, registered only with MESH_TEST_HOOKS=1: cuts this node off from some peers
 * (closes the connections, the gater refuses new ones) and heals the cut. On heal it dials
 * the peers again at once, as a restored link would let the next dial through (unless
 * `redial: false`: then the connector reconnects as it would after a real heal).
 */
export function registerTestHooks (control: Pick<ControlServer, 'register'>, deps: TestHooksDeps): void {
  const { libp2p, blocklist, membership } = deps
  const clock = deps.clock ?? systemClock
  const redial = async (id: string): Promise<void> => {
    const addrs = (membership.member(id)?.addrs ?? []).map(a => multiaddr(a))
    for (let attempt = 0; attempt < REDIAL_ATTEMPTS && !blocklist.has(id); attempt++) {
      try {
        await libp2p.dial(addrs.length > 0 ? addrs : peerIdFromString(id), { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
        return
      } catch {
        await clock.sleep(REDIAL_GAP_MS)
      }
    }
  }
  control.register('test.block', async (params) => {
    const block = idList(params.block)
    const unblock = idList(params.unblock)
    blocklist.block(block)
    blocklist.unblock(unblock)
    // A cut is not a polite close: a connection that does not close within a second (its
    // streams still draining, the peer's event loop busy) is aborted. Waiting for the
    // graceful close of many connections at once held a node's answer past 10 s.
    await Promise.all(block.map(async id => { await libp2p.hangUp(peerIdFromString(id), { signal: AbortSignal.timeout(CUT_CLOSE_MS) }).catch(() => {}) }))
    // `redial: false` leaves reconnecting to the connector: a node that keeps a partial mesh
    // (the in-process simulations) must not reconnect to every peer a cut had blocked.
    if (params.redial !== false) for (const id of unblock) void redial(id)
    return { blocked: blocklist.list() }
  })

  // `test.fault`: an internal error outside any request, as a bug in some event listener
  // would raise, to test the crash guard of `mesh start`. setImmediate, not a timer: it only
  // has to leave the request's call stack and promise chain, at no point in time in particular.
  control.register('test.fault', async (params) => {
    const kind = params.kind === 'rejection' ? 'rejection' : 'exception'
    setImmediate(() => {
      if (kind === 'rejection') void Promise.reject(new Error('injected fault'))
      else throw new Error('injected fault')
    })
    return { kind }
  })

  // `test.process`: where the process's memory is, after a full collection when asked (the
  // node must run with --expose-gc), so a bench can tell what is held from what V8 keeps of
  // freed heap; and the longest the event loop was held since the last call, which a client
  // timing its own calls cannot tell from its own delays.
  // Enabled by the first call: a timer every 10 ms is a cost a node under test hooks (an
  // in-process simulation of many) should not pay unless asked.
  let loopDelay: ELDHistogram | undefined
  control.register('test.process', async (params) => {
    if (params.gc === true) {
      const gc = (globalThis as { gc?: () => void }).gc
      if (gc == null) throw new Error('start the node with --expose-gc to force a collection')
      gc()
    }
    const eventLoopDelayMaxMs = loopDelay == null ? 0 : loopDelay.max / 1e6
    if (loopDelay == null) {
      loopDelay = monitorEventLoopDelay({ resolution: 10 })
      loopDelay.enable()
    }
    loopDelay.reset()
    const heapSpaces = Object.fromEntries(getHeapSpaceStatistics().map(s => [s.space_name, { size: s.space_size, used: s.space_used_size }]))
    return { ...process.memoryUsage(), malloced: getHeapStatistics().malloced_memory, heapSpaces, eventLoopDelayMaxMs }
  })
}

function idList (value: unknown): string[] {
  if (value == null) return []
  if (!Array.isArray(value) || value.some(v => typeof v !== 'string')) throw new TypeError('block and unblock take lists of peer ids')
  return value
}
