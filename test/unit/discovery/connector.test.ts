import type { PeerId } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { candidateAddrs, Connector, MAX_CANDIDATE_DIALS, type ConnectorInit, type ConnectorLibp2p } from '../../../node/discovery/connector.ts'
import { FakeClock } from '../../../node/time/fake-clock.ts'
import { FakeEvents, newPeerId } from '../membership/fake-libp2p.ts'

const INTERVAL_MS = 1000

interface Dial { at: number, target: string, signal: AbortSignal, /** Ends a hanging dial as failed. */ fail: () => void }

/** A libp2p with no connections whose every dial fails (or hangs until aborted). */
async function rig (init: Partial<ConnectorInit>, dialOutcome: 'fail' | 'hang' = 'fail'): Promise<{ clock: FakeClock, events: FakeEvents, connector: Connector, dials: Dial[] }> {
  const clock = new FakeClock(0)
  const events = new FakeEvents()
  const dials: Dial[] = []
  const self = await newPeerId()
  const libp2p = {
    peerId: self,
    addEventListener: events.addEventListener,
    removeEventListener: events.removeEventListener,
    getConnections: () => [],
    getPeers: () => [],
    dial: async (target: unknown, opts: { signal: AbortSignal }) => {
      let fail = (): void => {}
      const hanging = new Promise((_resolve, reject) => {
        fail = () => { reject(new Error('connect ECONNREFUSED')) }
        opts.signal.addEventListener('abort', () => { reject(opts.signal.reason) }, { once: true })
      })
      hanging.catch(() => {}) // a failing dial never awaits it
      dials.push({ at: clock.now(), target: Array.isArray(target) ? target.map(String).join(' ') : String(target), signal: opts.signal, fail })
      if (dialOutcome === 'fail') throw new Error('connect ECONNREFUSED')
      await hanging
    }
  } as unknown as ConnectorLibp2p
  // 0.5: equal jitter then waits exactly the ceiling, so the schedule is exact.
  const connector = new Connector({ libp2p, clock }, { bootstrap: [], members: () => [], intervalMs: INTERVAL_MS, random: () => 0.5, ...init })
  return { clock, events, connector, dials }
}

async function member (state: string): Promise<{ id: string, addrs: string[], state: string, peerId: PeerId }> {
  const peerId = await newPeerId()
  return { id: peerId.toString(), addrs: [`/ip4/127.0.0.1/tcp/4001/p2p/${peerId.toString()}`], state, peerId }
}

describe('connector', () => {
  it('backs off a failing member exponentially from the interval, capped at 30 s', async () => {
    const bob = await member('alive')
    const { clock, connector, dials } = await rig({ members: () => [bob] })
    connector.start()
    await clock.advance(0) // the first dial fails at once
    await clock.advance(70_000)
    connector.stop()
    // Ceilings 1, 2, 4, 8, 16 s, then the 30 s cap; sweeps run every second.
    expect(dials.map(d => d.at)).toEqual([0, 1000, 3000, 7000, 15000, 31000, 61000])
  })

  it('redials a member it thinks dead after 5 s, then less and less often, at most a minute apart', async () => {
    const carol = await member('dead')
    const { clock, connector, dials } = await rig({ members: () => [carol] })
    connector.start()
    await clock.advance(0)
    await clock.advance(200_000)
    connector.stop()
    // Gaps of 5, 10, 20, 40 s, then the one-minute cap.
    expect(dials.map(d => d.at)).toEqual([0, 5000, 15000, 35000, 75000, 135000, 195000])
  })

  it('dials a member back from the dead at once, abandoning the dial started while it was unreachable', async () => {
    const carol = await member('dead')
    const { clock, connector, dials } = await rig({ members: () => [carol] }, 'hang')
    connector.start()
    await clock.advance(0)
    expect(dials).toHaveLength(1) // hangs, as a SYN into a cut does
    await clock.advance(300)
    carol.state = 'alive'
    connector.dialReturned(carol.id)
    await clock.advance(0)
    connector.stop()
    // A fresh dial at once, not at the next sweep; the stale one was aborted, and it counts
    // as no failure of carol's.
    expect(dials.map(d => d.at)).toEqual([0, 300])
    expect(dials[0].signal.aborted).toBe(true)
    expect(dials[1].target).toBe(carol.addrs[0])
  })

  it('aborts the connections to a member declared dead, and only those', async () => {
    const carol = await member('dead')
    const dave = await member('alive')
    const aborted: string[] = []
    const connectionTo = (peer: PeerId): unknown => ({ remotePeer: peer, abort: (err: Error) => { aborted.push(`${peer.toString()} ${err.name}`) } })
    const { connector } = await rig({ members: () => [carol, dave] })
    ;(connector as any).libp2p.getConnections = (peer?: PeerId) => peer == null ? [connectionTo(carol.peerId), connectionTo(dave.peerId)] : [connectionTo(peer)]
    connector.dropDead(carol.id)
    expect(aborted).toEqual([`${carol.id} MemberDeadError`])
  })

  it('leaves a partial mesh to its sweep when a member comes back', async () => {
    const carol = await member('alive')
    const { clock, connector, dials } = await rig({ members: () => [carol], targetPeers: 0 }, 'hang')
    connector.start()
    await clock.advance(0)
    connector.dialReturned(carol.id)
    await clock.advance(0)
    connector.stop()
    expect(dials).toHaveLength(0)
  })

  it('dials the addresses a heartbeat names only on local networks; elsewhere by peer id', async () => {
    const local = await member('alive')
    const far = await member('alive')
    far.addrs = [`/ip4/8.8.8.8/tcp/4001/p2p/${far.id}`, `/ip4/192.168.1.20/tcp/4001/p2p/${far.id}`]
    const remote = await member('alive')
    remote.addrs = [`/ip4/203.0.113.9/tcp/4001/p2p/${remote.id}`, `/ip6/2001:db8::1/tcp/4001/p2p/${remote.id}`]
    const { clock, connector, dials } = await rig({ members: () => [local, far, remote] })
    connector.start()
    await clock.advance(0)
    connector.stop()
    const targets = dials.map(d => d.target)
    expect(targets).toContain(local.addrs[0])
    expect(targets).toContain(`/ip4/192.168.1.20/tcp/4001/p2p/${far.id}`)
    expect(targets.some(t => t.includes('8.8.8.8') || t.includes('203.0.113.9') || t.includes('2001:db8'))).toBe(false)
    expect(targets).toContain(remote.id)
  })

  it('with a target keeps that many peers at random among live members, plus one dial a sweep to a member thought dead', async () => {
    const alive = await Promise.all(Array.from({ length: 20 }, async () => await member('alive')))
    const dead = await Promise.all(Array.from({ length: 5 }, async () => await member('dead')))
    const clock = new FakeClock(0)
    const events = new FakeEvents()
    const connected = new Set<string>()
    const dialled: string[] = []
    const idOf = (target: unknown): string => String(target).split('/p2p/').at(-1) ?? ''
    const libp2p = {
      peerId: await newPeerId(),
      addEventListener: events.addEventListener,
      removeEventListener: events.removeEventListener,
      getConnections: (peer?: PeerId) => peer == null ? [...connected] : connected.has(peer.toString()) ? [peer] : [],
      getPeers: () => [...connected],
      dial: async (target: unknown) => {
        const id = idOf(Array.isArray(target) ? target[0] : target)
        dialled.push(id)
        // Members thought dead are on the other side of a cut: refused.
        if (dead.some(m => m.id === id)) throw new Error('dial refused')
        connected.add(id)
      }
    } as unknown as ConnectorLibp2p
    let r = 0
    const random = (): number => { r = (r * 7 + 3) % 10; return r / 10 }
    const connector = new Connector({ libp2p, clock }, {
      bootstrap: [], members: () => [...alive, ...dead], intervalMs: INTERVAL_MS, targetPeers: 4, random
    })
    connector.start()
    await clock.advance(0)
    expect(connected.size).toBe(4)
    expect(dialled.filter(id => dead.some(m => m.id === id))).toHaveLength(1)
    // A cut closes two of them: the next sweep replaces them, and no more.
    const [lost1, lost2] = connected
    connected.delete(lost1)
    connected.delete(lost2)
    await clock.advance(INTERVAL_MS)
    expect(connected.size).toBe(4)
    // Sweep after sweep the count stays at the target; dead members are tried one at a time.
    await clock.advance(20 * INTERVAL_MS)
    connector.stop()
    expect(connected.size).toBe(4)
    expect(dialled.filter(id => alive.some(m => m.id === id))).toHaveLength(6)
    const deadDials = dialled.filter(id => dead.some(m => m.id === id))
    expect(deadDials.length).toBeGreaterThan(1)
    expect(deadDials.length).toBeLessThanOrEqual(22)
  })

  it('start twice is harmless; stop undoes start; start after stop dials again', async () => {
    const { clock, events, connector, dials } = await rig({ bootstrap: [multiaddr('/ip4/127.0.0.1/tcp/4001')] }, 'hang')
    connector.start()
    connector.start()
    expect(events.count('peer:discovery')).toBe(1)
    expect(clock.pendingTimers).toBe(1)
    expect(dials).toHaveLength(1)

    connector.stop()
    expect(events.total()).toBe(0)
    expect(clock.pendingTimers).toBe(0)
    expect(dials[0].signal.aborted).toBe(true)
    await clock.advance(INTERVAL_MS * 3)
    expect(dials).toHaveLength(1)

    connector.start()
    expect(events.count('peer:discovery')).toBe(1)
    await clock.advance(INTERVAL_MS)
    // The new run's dial has its own signal, not the aborted one of the last run.
    expect(dials).toHaveLength(2)
    expect(dials[1].signal.aborted).toBe(false)

    // A peer found by mDNS is dialled once, however often start was called.
    const dave = await newPeerId()
    events.dispatch('peer:discovery', { id: dave, multiaddrs: [] })
    expect(dials.filter(d => d.target === dave.toString())).toHaveLength(1)
    connector.stop()
    expect(dials.every(d => d.signal.aborted)).toBe(true)
  })

  it('dials at most four candidates at a time, each at its local addresses with its own peer id, the next as one ends', async () => {
    const candidates = []
    for (let i = 0; i < 20; i++) {
      const id = (await newPeerId()).toString()
      candidates.push({ id, addrs: [`/ip4/127.0.0.1/tcp/${5000 + i}`, `/ip4/8.8.8.8/tcp/${5000 + i}`] })
    }
    // One names another peer's id at its address, one only a far address: neither is dialled.
    const other = (await newPeerId()).toString()
    const impostor = { id: (await newPeerId()).toString(), addrs: [`/ip4/127.0.0.1/tcp/6000/p2p/${other}`] }
    const far = { id: (await newPeerId()).toString(), addrs: ['/ip4/8.8.8.8/tcp/6001'] }
    const listed = [impostor, far, ...candidates]
    const { clock, connector, dials } = await rig({ candidates: () => listed }, 'hang')
    connector.start()
    expect(dials).toHaveLength(MAX_CANDIDATE_DIALS)
    expect(MAX_CANDIDATE_DIALS).toBe(4)
    // The latest heard first, at the local address only, ending in the candidate's id.
    expect(dials[0].target).toBe(`/ip4/127.0.0.1/tcp/5019/p2p/${candidates[19].id}`)
    // A new candidate, or a sweep, starts nothing while four are in flight.
    connector.dialCandidates()
    await clock.advance(INTERVAL_MS * 2)
    expect(dials).toHaveLength(MAX_CANDIDATE_DIALS)
    dials[0].fail()
    await clock.advance(0)
    expect(dials).toHaveLength(MAX_CANDIDATE_DIALS + 1)
    connector.stop()
    expect(dials.some(d => d.target.includes(other) || d.target.includes(far.id) || d.target.includes('8.8.8.8'))).toBe(false)
  })

  it('candidateAddrs keeps local addresses, adds the peer id, drops those naming another', async () => {
    const id = (await newPeerId()).toString()
    const other = (await newPeerId()).toString()
    expect(candidateAddrs(id, ['/ip4/10.0.0.2/tcp/1', `/ip4/10.0.0.3/tcp/1/p2p/${id}`, `/ip4/10.0.0.4/tcp/1/p2p/${other}`, '/ip4/1.1.1.1/tcp/1', 'garbage']).map(String))
      .toEqual([`/ip4/10.0.0.2/tcp/1/p2p/${id}`, `/ip4/10.0.0.3/tcp/1/p2p/${id}`])
  })
})
