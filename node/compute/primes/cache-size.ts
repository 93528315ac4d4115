import { readFileSync } from 'node:fs'

/** When the size cannot be read (not Linux, no sysfs): the L1 data cache of most x86 cores. */
const FALLBACK_L1_BYTES = 32 * 1024

/**
 * Size of this machine's level-1 data cache per core, from Linux sysfs (primesieve reads it
 * with CPUID for the same purpose), a multiple of 16 in [16 KiB, 256 KiB].
 */
export function l1DataCacheBytes (): number {
  for (let index = 0; index < 8; index++) {
    const dir = `/sys/devices/system/cpu/cpu0/cache/index${index}`
    try {
      if (readFileSync(`${dir}/level`, 'utf8').trim() !== '1') continue
      if (readFileSync(`${dir}/type`, 'utf8').trim() !== 'Data') continue
      const bytes = parseCacheSize(readFileSync(`${dir}/size`, 'utf8'))
      if (bytes != null) return Math.min(256 * 1024, Math.max(16 * 1024, bytes & ~15))
    } catch {
      break
    }
  }
  return FALLBACK_L1_BYTES
}

/** "48K" -> 49152; null when unreadable. */
export function parseCacheSize (text: string): number | null {
  const match = /^(\d+)([KM]?)$/.exec(text.trim())
  if (match == null) return null
  const unit = match[2] === 'M' ? 1 << 20 : match[2] === 'K' ? 1 << 10 : 1
  return Number(match[1]) * unit
}
