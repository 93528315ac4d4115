import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const MODULE = fileURLToPath(new URL('../../../cli/old-generation.ts', import.meta.url))

/**
 * In a fresh Node (the test runner's heap has its own history): some live data, then a churn
 * of batches that each outlive a few scavenges and then die, as the objects of connections
 * refused by the hundred a second do: promoted to the old generation, garbage soon after.
 * Returns the largest the old generation was committed: after holdOldGenerationGrowth with
 * `env`, or with V8's own growth when `env` is null.
 */
function largestOldGeneration (env: Record<string, string> | null): number {
  const script = `
    const { getHeapSpaceStatistics } = await import('node:v8')
    const { holdOldGenerationGrowth } = await import(${JSON.stringify(MODULE)})
    const env = ${JSON.stringify(env)}
    if (env != null) holdOldGenerationGrowth(50, env)
    const size = () => getHeapSpaceStatistics().find(s => s.space_name === 'old_space').space_size
    globalThis.live = Array.from({ length: 100000 }, (_, i) => ({ i, s: 'x' + i }))
    let largest = 0
    const recent = []
    for (let r = 0; r < 400; r++) {
      const batch = []; for (let i = 0; i < 20000; i++) batch.push({ i, t: 'y' + i })
      recent.push(batch); if (recent.length > 8) recent.shift()
      await new Promise(resolve => setImmediate(resolve))
      largest = Math.max(largest, size())
    }
    console.log(JSON.stringify(largest))`
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
  if (run.status !== 0) throw new Error(run.stderr)
  return JSON.parse(run.stdout)
}

describe('holdOldGenerationGrowth', () => {
  it('keeps the old generation from filling with promoted garbage to several times what is live', () => {
    // Measured: about 75 MB held against 115-120 MB with V8's own factor.
    const held = largestOldGeneration({})
    const own = largestOldGeneration(null)
    expect(held).toBeLessThan(0.8 * own)
    // The benchmark's baseline: test hooks leave V8 its own growth.
    expect(largestOldGeneration({ MESH_TEST_HOOKS: '1', MESH_OLD_GENERATION_GROWTH: 'default' })).toBeGreaterThan(0.8 * own)
  })
})
