import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const MODULE = fileURLToPath(new URL('../../../cli/young-generation.ts', import.meta.url))

/**
 * Runs in a fresh Node (the test runner's own young generation has long grown): allocates in
 * bursts that survive scavenges, as module loading does, inside withSmallYoungGeneration and
 * after it, and reports the young generation's size at each point.
 */
function youngGenerationSizes (failing: boolean): { before: number, held: number, after: number } {
  const script = `
    const { getHeapSpaceStatistics } = await import('node:v8')
    const { withSmallYoungGeneration } = await import(${JSON.stringify(MODULE)})
    const size = () => getHeapSpaceStatistics().find(s => s.space_name === 'new_space').space_size
    const bursts = () => { for (let r = 0; r < 40; r++) { const kept = []; for (let i = 0; i < 50000; i++) kept.push({ i, t: 'x' + i }); globalThis.sink = kept } }
    const before = size()
    await withSmallYoungGeneration(async () => { bursts(); if (${failing}) throw new Error('no node') }).catch(() => {})
    const held = size()
    bursts()
    console.log(JSON.stringify({ before, held, after: size() }))`
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
  if (run.status !== 0) throw new Error(run.stderr)
  return JSON.parse(run.stdout)
}

describe('withSmallYoungGeneration', () => {
  it('keeps the young generation at its size while the node starts, and lets it grow after', () => {
    const { before, held, after } = youngGenerationSizes(false)
    // V8 takes a first step or two (1 -> 2, sometimes 4 MB on a busy machine) regardless;
    // without the hold it grows to the 16 MB semi-space maximum.
    expect(held).toBeLessThanOrEqual(4 * before)
    expect(after).toBeGreaterThanOrEqual(2 * held)
  })

  it('lets it grow again after a start that failed', () => {
    const { before, held, after } = youngGenerationSizes(true)
    // V8 takes a first step or two (1 -> 2, sometimes 4 MB on a busy machine) regardless;
    // without the hold it grows to the 16 MB semi-space maximum.
    expect(held).toBeLessThanOrEqual(4 * before)
    expect(after).toBeGreaterThanOrEqual(2 * held)
  })
})

/**
 * In a fresh Node: bursts of allocation that survive scavenges with a turn of the event loop
 * between them (as a node serving a churn of connections), with the young generation
 * capped at `capBytes` or not, and the largest size it reached.
 */
function largestYoungGeneration (capBytes: number | null): number {
  const script = `
    const { getHeapSpaceStatistics } = await import('node:v8')
    const { capYoungGeneration } = await import(${JSON.stringify(MODULE)})
    const size = () => getHeapSpaceStatistics().find(s => s.space_name === 'new_space').space_size
    const stop = ${capBytes == null ? 'null' : `capYoungGeneration(${capBytes})`}
    let largest = 0
    for (let r = 0; r < 150; r++) {
      const kept = []; for (let i = 0; i < 50000; i++) kept.push({ i, t: 'x' + i }); globalThis.sink = kept
      await new Promise(resolve => setImmediate(resolve))
      largest = Math.max(largest, size())
    }
    stop?.()
    console.log(JSON.stringify(largest))`
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
  if (run.status !== 0) throw new Error(run.stderr)
  return JSON.parse(run.stdout)
}

describe('capYoungGeneration', () => {
  it('stops the young generation growing past its cap under a churn that grows it beyond', () => {
    const CAP = 8 * 1024 * 1024
    // A growth or two may come before the observer hears of a collection (its entries are
    // delivered later, on a busy machine after more than one); unheld, it reaches 128 MiB.
    expect(largestYoungGeneration(CAP)).toBeLessThanOrEqual(4 * CAP)
    expect(largestYoungGeneration(null)).toBeGreaterThan(8 * CAP)
  })
})
