import type { PeerId } from '@libp2p/interface'
import { beforeEach, describe, expect, it } from 'vitest'
import { ReachabilityProbe, type ProbeLibp2p } from '../../../node/membership/reachability-probe.ts'
import { timingFor } from '../../../node/membership/timing.ts'
import { FakeClock } from '../../../node/time/fake-clock.ts'
import { FakeEvents, newPeerId } from './fake-libp2p.ts'

const timing = timingFor(1000)
/** The probe's wait after a disconnect, for a goodbye to arrive first. */
const GRACE_MS = 150

interface Rig {
  clock: FakeClock
  events: FakeEvents
  probe: ReachabilityProbe
  bob: PeerId
  pings: AbortSignal[]
  verdicts: Array<{ at: number, id: string, refused: boolean }>
  /** What each ping does; by default every dial is refused. */
  answer: { ping: (signal: AbortSignal) => Promise<number> }
}

const refused = async (): Promise<number> => { throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }
/** A hung peer: the ping ends only when its signal aborts. */
const hangs = async (signal: AbortSignal): Promise<number> => await new Promise((_resolve, reject) => {
  signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true })
})

async function rig (): Promise<Rig> {
  const clock = new FakeClock()
  const events = new FakeEvents()
  const pings: AbortSignal[] = []
  const answer: Rig['answer'] = { ping: refused }
  const libp2p = {
    addEventListener: events.addEventListener,
    removeEventListener: events.removeEventListener,
    getConnections: () => [],
    services: { ping: { ping: async (_peer: PeerId, opts: { signal: AbortSignal }) => { pings.push(opts.signal); return await answer.ping(opts.signal) } } }
  } as unknown as ProbeLibp2p
  const verdicts: Rig['verdicts'] = []
  const probe = new ReachabilityProbe({ libp2p, clock }, {
    timing,
    shouldProbe: () => true,
    onUnreachable: (id, refused) => { verdicts.push({ at: clock.now(), id, refused }) }
  })
  return { clock, events, probe, bob: await newPeerId(), pings, verdicts, answer }
}

describe('reachability probe', () => {
  let r: Rig
  beforeEach(async () => { r = await rig() })

  it('a refused dial after the grace: unreachable, refused', async () => {
    r.probe.start()
    const t0 = r.clock.now()
    r.events.dispatch('peer:disconnect', r.bob)
    await r.clock.advance(GRACE_MS - 1)
    expect(r.pings).toHaveLength(0)
    await r.clock.advance(1)
    expect(r.pings).toHaveLength(2)
    expect(r.verdicts).toEqual([{ at: t0 + GRACE_MS, id: r.bob.toString(), refused: true }])
  })

  it('a ping that gets no answer times out on the clock: unreachable, not refused', async () => {
    r.answer.ping = hangs
    r.probe.start()
    const t0 = r.clock.now()
    r.events.dispatch('peer:disconnect', r.bob)
    await r.clock.advance(GRACE_MS + timing.heartbeatMs - 1)
    expect(r.pings).toHaveLength(1)
    await r.clock.advance(1)
    expect(r.pings).toHaveLength(2)
    expect(r.pings[0].aborted).toBe(true)
    expect(r.pings[0].reason?.name).toBe('PingTimeoutError')
    await r.clock.advance(timing.heartbeatMs)
    expect(r.verdicts).toEqual([{ at: t0 + GRACE_MS + 2 * timing.heartbeatMs, id: r.bob.toString(), refused: false }])
    expect(r.clock.pendingTimers).toBe(0)
  })

  it('start twice is harmless; stop ends probes and removes the listener; start after stop probes again', async () => {
    r.probe.start()
    r.probe.start()
    expect(r.events.count('peer:disconnect')).toBe(1)

    r.events.dispatch('peer:disconnect', r.bob)
    r.probe.stop()
    expect(r.events.total()).toBe(0)
    await r.clock.advance(GRACE_MS * 2)
    expect(r.pings).toHaveLength(0)
    expect(r.verdicts).toEqual([])

    // A fresh run: the previous run's aborted signal must not end this one's probes.
    r.probe.start()
    expect(r.events.count('peer:disconnect')).toBe(1)
    r.events.dispatch('peer:disconnect', r.bob)
    await r.clock.advance(GRACE_MS)
    expect(r.pings).toHaveLength(2)
    expect(r.verdicts.map(v => v.refused)).toEqual([true])
    r.probe.stop()
  })
})
