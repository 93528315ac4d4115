import { countRange } from '../../../node/compute/primes/count-range.ts'
import { ShardScheduler } from '../../../node/compute/scheduler/shard-scheduler.ts'
import type { ShardSchedulerInit } from '../../../node/compute/scheduler/scheduler-options.ts'
import type { Assignment, ShardResult } from '../../../node/compute/scheduler/types.ts'

/** A clock tests move by hand. */
export class FakeClock {
  t = 1_000_000
  now = (): number => this.t
  advance (ms: number): void { this.t += ms }
}

export function truth (from: bigint, to: bigint): ShardResult {
  return countRange(from, to)
}

/** A small job on a slow fake rate, so it cuts into many shards. */
export function makeScheduler (clock: FakeClock, init: Partial<ShardSchedulerInit> & { from: bigint, to: bigint }): ShardScheduler {
  return new ShardScheduler({ now: clock.now, random: () => 0.5, initialRatePerSlot: 1e6, ...init })
}

/**
 * Runs the job to the end on a fake clock: every assignment finishes after `msOf(a)` of
 * fake time with the true result (or whatever `answer` returns). Returns the assignments seen.
 */
export function runToEnd (s: ShardScheduler, clock: FakeClock, opts: {
  msOf?: (a: Assignment) => number
  answer?: (a: Assignment) => ShardResult | 'fail' | 'hang'
  maxSteps?: number
  /** Assignments handed out before the call, still to be run. */
  started?: Assignment[]
  cancelled?: number[]
} = {}): Assignment[] {
  const seen: Assignment[] = []
  const running = new Map<number, { a: Assignment, at: number }>()
  const cancelled = new Set<number>(opts.cancelled ?? [])
  const msOf = opts.msOf ?? (() => 500)
  for (const a of opts.started ?? []) running.set(a.attempt, { a, at: clock.t + msOf(a) })
  for (let step = 0; step < (opts.maxSteps ?? 100_000) && !s.done && s.error == null; step++) {
    for (const a of s.nextAssignments()) {
      seen.push(a)
      running.set(a.attempt, { a, at: clock.t + msOf(a) })
    }
    const next = [...running.values()].sort((x, y) => x.at - y.at)[0]
    clock.advance(next == null ? 100 : Math.max(0, Math.min(100, next.at - clock.t)))
    for (const id of s.tick().cancel) cancelled.add(id)
    for (const r of [...running.values()]) {
      if (r.at > clock.t) continue
      running.delete(r.a.attempt)
      if (cancelled.has(r.a.attempt)) continue
      const answer = opts.answer?.(r.a) ?? truth(r.a.range.from, r.a.range.to)
      if (answer === 'hang') continue
      const outcome = answer === 'fail' ? s.fail(r.a.attempt, 'Error: boom') : s.result(r.a.attempt, answer, msOf(r.a) / 1000)
      for (const id of outcome.cancel) cancelled.add(id)
    }
  }
  return seen
}
