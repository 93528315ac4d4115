import { defineConfig } from 'vitest/config'

/**
 * Test files that keep the cores busy: sieves, distributed prime counts, a node whose workers
 * burn both cores on purpose. They run after every other file, two at a time, so they never
 * share the machine with the files that time heartbeats and failure detection. A file whose
 * `cores` is about 1 or more in MESH_TEST_CPU_LOG (see test/utils/cpu-accounting.ts), measured
 * on a quiet machine, belongs here; every other file, a new one included, runs with the light
 * ones.
 */
const CPU_HEAVY = [
  'test/unit/primes/count-range.test.ts',
  'test/unit/primes/list-and-shards.test.ts',
  'test/integration/busy-node.test.ts',
  'test/integration/gossip-budget.test.ts',
  'test/integration/half-open-memory.test.ts',
  'test/integration/echo-models.test.ts',
  'test/integration/gateway-line.test.ts',
  'test/integration/jobs-faults.test.ts',
  'test/integration/jobs-verify.test.ts',
  'test/integration/primes-differential.test.ts',
  'test/integration/primes-high.test.ts',
  'test/integration/primes-worker-pool.test.ts',
  'test/e2e/dashboard-browser.test.ts',
  'test/e2e/demo-cli.test.ts',
  'test/e2e/loadtest-study.test.ts',
  'test/e2e/primes-cli.test.ts',
  'test/e2e/primes-test-cli.test.ts',
  'test/unit/pi/pi-combinatorial.test.ts',
  'test/integration/pi-distributed.test.ts',
  'test/integration/sim-process-32.test.ts'
]

export default defineConfig({
  test: {
    setupFiles: ['test/utils/cpu-accounting.ts'],
    // Integration tests start real processes; give them room but keep the suite bounded.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores, two files at a time: the light files mostly wait on their processes, and two
    // heavy ones merely share the cores their worker threads would fill anyway.
    maxWorkers: 2,
    projects: [
      // The same group (0): unit and light integration files share the two workers.
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], exclude: CPU_HEAVY, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'], exclude: CPU_HEAVY, sequence: { groupOrder: 0 } } },
      // Group 1 starts when group 0 is done.
      { extends: true, test: { name: 'cpu-heavy', include: CPU_HEAVY, sequence: { groupOrder: 1 } } }
    ]
  }
})
