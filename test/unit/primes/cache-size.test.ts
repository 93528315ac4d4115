import { describe, expect, it } from 'vitest'
import { l1DataCacheBytes, parseCacheSize } from '../../../node/compute/primes/cache-size.ts'

describe('cache size', () => {
  it('reads sysfs sizes', () => {
    expect(parseCacheSize('48K\n')).toBe(48 * 1024)
    expect(parseCacheSize('2M')).toBe(2 * 1024 * 1024)
    expect(parseCacheSize('512')).toBe(512)
    expect(parseCacheSize('')).toBe(null)
    expect(parseCacheSize('big')).toBe(null)
  })

  it('gives the L1 data cache a size the sieve can use as a block', () => {
    const bytes = l1DataCacheBytes()
    expect(bytes % 16).toBe(0)
    expect(bytes).toBeGreaterThanOrEqual(16 * 1024)
    expect(bytes).toBeLessThanOrEqual(256 * 1024)
  })
})
