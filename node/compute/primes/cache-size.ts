import { readFileSync } from 'node:fs'

/** When a size cannot be read (not Linux, no sysfs): the caches of most x86 cores. */
const FALLBACK_L1_BYTES = 32 * 1024
const FALLBACK_L2_BYTES = 1024 * 1024

/**
 * Size of this machine's level-1 data cache per core, from Linux sysfs (primesieve reads it
 * with CPUID for the same purpose), a multiple of 16 in [16 KiB, 256 KiB].
 */
export function l1DataCacheBytes (): number {
  const bytes = cacheBytes(1, 'Data') ?? FALLBACK_L1_BYTES
  return Math.min(256 * 1024, Math.max(16 * 1024, bytes & ~15))
}

/** Size of this machine's level-2 cache per core, from Linux sysfs. */
export function l2CacheBytes (): number {
  return cacheBytes(2, 'Unified') ?? cacheBytes(2, 'Data') ?? FALLBACK_L2_BYTES
}

/** The size of cpu0's cache of this level and type, or null when sysfs does not tell. */
function cacheBytes (level: number, type: string): number | null {
  for (let index = 0; index < 8; index++) {
    const dir = `/sys/devices/system/cpu/cpu0/cache/index${index}`
    try {
      if (Number(readFileSync(`${dir}/level`, 'utf8').trim()) !== level) continue
      if (readFileSync(`${dir}/type`, 'utf8').trim() !== type) continue
      return parseCacheSize(readFileSync(`${dir}/size`, 'utf8'))
    } catch {
      return null
    }
  }
  return null
}

/** "48K" -> 49152; null when unreadable. */
export function parseCacheSize (text: string): number | null {
  const match = /^(\d+)([KM]?)$/.exec(text.trim())
  if (match == null) return null
  const unit = match[2] === 'M' ? 1 << 20 : match[2] === 'K' ? 1 << 10 : 1
  return Number(match[1]) * unit
}
