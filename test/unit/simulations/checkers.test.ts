import { describe, expect, it } from 'vitest'
import { checkChat } from '../../../simulations/checkers/chat-checker.ts'
import { checkHarness } from '../../../simulations/checkers/harness-checker.ts'
import { checkJobs } from '../../../simulations/checkers/jobs-checker.ts'
import { checkMembership } from '../../../simulations/checkers/membership-checker.ts'
import { checkRpc } from '../../../simulations/checkers/rpc-checker.ts'
import { runCheckers } from '../../../simulations/checkers/run-checkers.ts'
import { checkVacuity } from '../../../simulations/checkers/vacuity-checker.ts'
import type { HistoryEvent, OpEvent } from '../../../simulations/history/history.ts'
import { healthyRun, HistoryBuilder } from './sim-history.ts'

/** The completion of the chat.read of `node`. */
function readOf (history: HistoryEvent[], node: number): OpEvent {
  return history.find((e): e is OpEvent => e.type === 'ok' && (e as OpEvent).f === 'chat.read' && (e as OpEvent).node === node)!
}

describe('checkers on a healthy run', () => {
  it('every checker says valid, and the details say what happened', () => {
    const verdict = runCheckers(healthyRun().build())
    for (const [name, result] of Object.entries(verdict.checkers)) expect(result.valid, `${name}: ${result.summary}`).toBe(true)
    expect(verdict.valid).toBe(true)
    const membership = verdict.checkers.membership
    expect(membership.convergedAfterMs).toBe(2000)
    expect((membership.detection as any).partition.downMs.max).toBe(5200)
    const chat = verdict.checkers.chat
    expect(chat.sentDuringFaults).toBe(3)
    expect(chat.deliveredAfterHeal).toBe(true)
    expect((chat.stableLatencyMs as any).max).toBe(9000)
  })
})

describe('membership checker', () => {
  it('fails when a view never converges after the heal', () => {
    const h = healthyRun()
    // n2 keeps n0 dead to the end.
    h.observe(22_500, 2, { 0: 'dead', 1: 'alive', 2: 'alive' })
    const result = checkMembership(h.build())
    expect(result.valid).toBe(false)
    expect(result.convergedAfterMs).toBeNull()
    expect(result.unconverged).toContain('n2 sees n0 dead')
  })

  it('fails on a death outside every fault window', () => {
    const h = healthyRun()
    h.observe(40_000, 1, { 0: 'alive', 1: 'alive', 2: 'dead' }).observe(41_000, 1, { 0: 'alive', 1: 'alive', 2: 'alive' })
    const result = checkMembership(h.build())
    expect(result.valid).toBe(false)
    expect(result.falseDeathCount).toBe(1)
    expect(result.falseDeaths).toEqual(['n1 saw n2 dead at 40000 ms with no fault between them'])
  })

  it('tells a suspicion relayed across a cut from a false one, which nobody cut from the target had raised', () => {
    const h = healthyRun()
    // Just after the heal, n1 takes n0's word about n2 (n0 was cut from n2 and held it dead).
    h.observe(20_500, 1, { 0: 'dead', 1: 'alive', 2: 'suspect' })
    // In the window, before anybody cut from n2 doubted it: nothing but the mesh to blame.
    h.observe(11_000, 1, { 0: 'alive', 1: 'alive', 2: 'suspect' }).observe(11_500, 1, { 0: 'alive', 1: 'alive', 2: 'alive' })
    // Long after the window, with no fault at all.
    h.observe(40_000, 2, { 0: 'alive', 1: 'suspect', 2: 'alive' }).observe(41_000, 2, { 0: 'alive', 1: 'alive', 2: 'alive' })
    // In the window, after n0 held n2 dead, but n0's word could not cross the cut to n1: the mesh's own doing.
    h.observe(17_000, 1, { 0: 'dead', 1: 'alive', 2: 'suspect' }).observe(17_500, 1, { 0: 'dead', 1: 'alive', 2: 'alive' })
    const result = checkMembership(h.build())
    expect(result.relayedSuspicionCount).toBe(1)
    expect(result.falseSuspicionCount).toBe(3)
    expect(result.falseSuspicions).toEqual([
      'n1 saw n2 suspect at 11000 ms; nobody cut from it doubted it where its word could reach',
      'n1 saw n2 suspect at 17000 ms; nobody cut from it doubted it where its word could reach',
      'n2 saw n1 suspect at 40000 ms; nobody cut from it doubted it where its word could reach'
    ])
    // Suspicions are counted, not judged: the membership verdict rests on deaths.
    expect(result.valid).toBe(true)
    expect(result.summary).toContain('3 false suspicions (1 more relayed across a cut)')
  })

  it('fails when a node cut off for the whole window is never seen dead', () => {
    const h = new HistoryBuilder(3)
    const all = { 0: 'alive', 1: 'alive', 2: 'alive' }
    for (const n of [0, 1, 2]) h.observe(1000, n, all)
    h.partition(10_000, { 0: [1, 2], 1: [0], 2: [0] })
    h.heal(20_000)
    const result = checkMembership(h.build())
    expect(result.valid).toBe(false)
    expect((result.missedDetections as string[])[0]).toBe('n0 never saw n1 dead during the partition at 10000 ms')
  })
})

describe('chat checker', () => {
  it('fails when an acknowledged message is missing on one node', () => {
    const history = healthyRun().build()
    const read = readOf(history, 2)
    read.value.messages = read.value.messages.filter((m: any) => m.text !== 'n0-1')
    const result = checkChat(history)
    expect(result.valid).toBe(false)
    expect(result.lost).toEqual({ n2: 1 })
    expect(result.deliveredAfterHeal).toBe(false)
  })

  it('fails when a node shows a message twice, or one send under two ids', () => {
    const history = healthyRun().build()
    const read = readOf(history, 1)
    read.value.messages.push({ ...read.value.messages[0] }, { ...read.value.messages[1], id: 'another-id' })
    const result = checkChat(history)
    expect(result.valid).toBe(false)
    expect(result.duplicated).toEqual({ n1: 2 })
  })

  it('fails when two nodes order the same messages differently', () => {
    const history = healthyRun().build()
    const read = readOf(history, 2)
    const [a, b, ...rest] = read.value.messages
    read.value.messages = [b, a, ...rest]
    const result = checkChat(history)
    expect(result.valid).toBe(false)
    expect(result.orderMismatches).toHaveLength(1)
  })

  it('is unknown when nothing was acknowledged', () => {
    const h = new HistoryBuilder(2)
    h.op(0, 'chat.send', 10, { text: 'x' }, 3010, 'info', undefined, 'TimeoutError')
    expect(checkChat(h.build()).valid).toBe('unknown')
  })
})

describe('jobs checker', () => {
  it('fails on a wrong count', () => {
    const h = healthyRun()
    h.op(0, 'jobs.count', 25_000, { from: 1, to: 100_000_000, expected: 5_761_455 }, 27_000, 'ok', { count: '5761454', shards: 1, peers: [{ id: 'p', shards: 1 }] })
    const result = checkJobs(h.build())
    expect(result.valid).toBe(false)
    expect(result.summary).toBe('job on n0 [1, 100000000] counted 5761454, expected 5761455')
  })

  it('fails when the shards the peers had accepted do not add up to the job\'s (a shard accepted twice)', () => {
    const h = healthyRun()
    h.op(0, 'jobs.count', 25_000, { from: 1, to: 10, expected: 4 }, 27_000, 'ok', { count: '4', shards: 2, peers: [{ id: 'p', shards: 2 }, { id: 'q', shards: 1 }] })
    expect(checkJobs(h.build()).valid).toBe(false)
  })

  it('fails when a job failed or never finished', () => {
    const h = healthyRun()
    h.op(0, 'jobs.count', 25_000, { from: 1, to: 10, expected: 4 }, undefined, 'info')
    const result = checkJobs(h.build())
    expect(result.valid).toBe(false)
    expect(result.summary).toBe('job on n0 [1, 10] never finished')
  })
})

describe('rpc checker', () => {
  it('fails when a call hangs past its deadline', () => {
    const h = healthyRun()
    h.op(1, 'rpc.call', 14_000, { deadlineMs: 3000, expect: 'World' }, 19_001, 'info', undefined, 'hung')
    const result = checkRpc(h.build())
    expect(result.valid).toBe(false)
    expect(result.hung).toBe(1)
  })

  it('fails when a call answers long after its deadline, or wrongly', () => {
    const h = healthyRun()
    h.op(1, 'rpc.call', 14_000, { deadlineMs: 3000, expect: 'World' }, 19_500, 'fail', undefined, 'DeadlineExceededError: late')
    h.op(1, 'rpc.call', 30_000, { deadlineMs: 3000, expect: 'World' }, 30_010, 'ok', { result: 'Hello' })
    const result = checkRpc(h.build())
    expect(result.valid).toBe(false)
    expect(result.problems).toHaveLength(2)
  })

  it('fails on an error without a name', () => {
    const h = healthyRun()
    h.op(1, 'rpc.call', 14_000, { deadlineMs: 3000, expect: 'World' }, 14_500, 'fail', undefined, 'something broke')
    expect(checkRpc(h.build()).valid).toBe(false)
  })
})

describe('vacuity checker', () => {
  it('is unknown when the partition dropped no packet', () => {
    const h = new HistoryBuilder(3)
    h.partition(10_000, { 0: [1, 2], 1: [0], 2: [0] })
    h.heal(20_000, 0)
    const result = checkVacuity(h.build())
    expect(result.valid).toBe('unknown')
    expect((result.windows as any)[0].reasons).toContain('the partition dropped no packet')
  })

  it('is unknown when the cut was shorter than the detection time, and then the whole run is unknown', () => {
    const h = healthyRun()
    h.partition(40_000, { 0: [1], 1: [0] })
    h.heal(41_000)
    const result = checkVacuity(h.build())
    expect(result.valid).toBe('unknown')
    expect(result.summary).toContain('less than the 4500 ms detection time')
    expect(runCheckers(h.build()).valid).toBe('unknown')
  })

  it('is unknown when a workload did not run during the fault', () => {
    const h = new HistoryBuilder(3)
    h.op(0, 'chat.send', 100, { text: 'a' }, 110, 'ok', { id: 'a' })
    h.partition(10_000, { 0: [1, 2], 1: [0], 2: [0] })
    h.heal(20_000)
    expect((checkVacuity(h.build()).windows as any)[0].reasons).toContain('no chat operation ran during it')
  })
})

describe('membership convergence after each fault', () => {
  it('measures each heal separately, and null for a heal the views never recovered from before the next fault', () => {
    const h = healthyRun()
    // A second cut of n0 from 30 s to 40 s, after which n1 keeps n0 dead until the third at 50 s.
    h.partition(30_000, { 0: [1, 2], 1: [0], 2: [0] })
    h.observe(35_000, 1, { 0: 'dead', 1: 'alive', 2: 'alive' })
    h.heal(40_000)
    h.partition(50_000, { 0: [1], 1: [0] })
    h.heal(60_000)
    h.observe(61_500, 1, { 0: 'alive', 1: 'alive', 2: 'alive' })
    const result = checkMembership(h.build())
    expect(result.convergenceAfterEachFaultMs).toEqual([2000, null, 1500])
  })
})

describe('rpc checker and a caller killed mid-call', () => {
  it('counts the call as indeterminate, not hung', () => {
    const h = healthyRun()
    h.op(1, 'rpc.call', 14_000, { deadlineMs: 3000, expect: 'World' }, 14_100, 'info', undefined, 'Error: read ECONNRESET')
    const result = checkRpc(h.build())
    expect(result.valid).toBe(true)
    expect(result.indeterminate).toBe(1)
  })
})

describe('rpc checker and a caller paused mid-call', () => {
  it('does not blame the rpc for a call its own paused caller could not finish', () => {
    const h = new HistoryBuilder(3)
    h.op(1, 'rpc.call', 9_000, { deadlineMs: 3000, expect: 'World' }, 15_000, 'info', undefined, 'hung')
    h.events.push({ t: 10_000, type: 'nemesis', fault: { f: 'pause', nodes: [1] } }, { t: 18_000, type: 'nemesis', fault: { f: 'resume', nodes: [1] } })
    const result = checkRpc(h.build())
    expect(result.hung).toBe(0)
    expect(result.indeterminate).toBe(1)
    // The same call from a node nobody paused hung.
    const other = new HistoryBuilder(3)
    other.op(2, 'rpc.call', 9_000, { deadlineMs: 3000, expect: 'World' }, 15_000, 'info', undefined, 'hung')
    other.events.push({ t: 10_000, type: 'nemesis', fault: { f: 'pause', nodes: [1] } }, { t: 18_000, type: 'nemesis', fault: { f: 'resume', nodes: [1] } })
    expect(checkRpc(other.build()).valid).toBe(false)
  })
})

describe('jobs checker and a coordinator that left under its job', () => {
  it('sets the job aside (it ends with its coordinator); a job whose coordinator stayed and failed is invalid', () => {
    const h = new HistoryBuilder(3)
    h.op(2, 'jobs.count', 9_000, { from: 1, to: 10, expected: 4 }, 11_000, 'fail', undefined, 'JobCancelledError: the job was cancelled')
    h.events.push({ t: 10_000, type: 'nemesis', fault: { f: 'leave', nodes: [2] } }, { t: 18_000, type: 'nemesis', fault: { f: 'join', nodes: [2] } })
    const alone = checkJobs(h.build())
    expect(alone.valid).toBe('unknown')
    expect(alone.cutShort).toBe(1)
    h.op(1, 'jobs.count', 9_000, { from: 1, to: 10, expected: 4 }, 11_000, 'fail', undefined, 'JobCancelledError: the job was cancelled')
    expect(checkJobs(h.build()).valid).toBe(false)
  })
})

describe('harness checker', () => {
  it('says unknown when the nodes answered slower than a heartbeat (a starved machine), true otherwise', () => {
    expect(checkHarness(healthyRun().build()).valid).toBe(true)
    const result = checkHarness(new HistoryBuilder(3).harness(2500).build())
    expect(result.valid).toBe('unknown')
    expect(result.summary).toContain('more than a heartbeat (1000 ms)')
  })
})

describe('the run verdict on a starved machine', () => {
  it('a timing failure becomes unknown when the harness was starved; a lost message stays invalid', () => {
    const slow = new HistoryBuilder(3)
    for (const e of healthyRun().events.slice(1)) if (e.type !== 'harness') slow.events.push(e)
    slow.op(1, 'rpc.call', 14_000, { deadlineMs: 3000, expect: 'World' }, 19_001, 'info', undefined, 'hung')
    slow.harness(2500)
    const verdict = runCheckers(slow.build())
    expect(verdict.checkers.rpc.valid).toBe(false)
    expect(verdict.valid).toBe('unknown')

    const lost = slow.build()
    const read = readOf(lost, 2)
    read.value.messages = read.value.messages.slice(1)
    expect(runCheckers(lost).valid).toBe(false)

    // With a healthy harness the same hang is invalid.
    const h = healthyRun()
    h.op(1, 'rpc.call', 14_000, { deadlineMs: 3000, expect: 'World' }, 19_001, 'info', undefined, 'hung')
    expect(runCheckers(h.build()).valid).toBe(false)
  })
})
