import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/utils/cpu-accounting.ts'],
    // Integration tests start real processes; give them room but keep the suite bounded.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: run test files one or two at a time so timing-sensitive membership tests
    // are not starved by a CPU-heavy sieve test in another file.
    maxWorkers: 2,
    fileParallelism: true
  }
})
