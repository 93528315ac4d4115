import { PerformanceObserver } from 'node:perf_hooks'
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8'

/** V8's own default for `--semi-space-growth-factor` (see `node --v8-options`). */
const V8_GROWTH_FACTOR = 2

/**
 * Runs `start` (loading and starting a node) with V8's young generation kept at its initial
 * size, then lets it grow again. Loading some 800 modules allocates in bursts that make V8
 * double the young generation up to its 16 MB semi-space maximum, 33 MB that an idle node
 * then keeps resident and never uses (7 MB live); measured, an idle node holds about 100 MB
 * instead of 117. Once the node runs, the factor is V8's default again, so a node under load
 * grows its young generation exactly as before. The flag is read whenever V8 considers
 * growing, so setting it at run time works (unlike the semi-space maximum, which is fixed
 * when the heap is created).
 */
export async function withSmallYoungGeneration<T> (start: () => Promise<T>): Promise<T> {
  setFlagsFromString('--semi-space-growth-factor=1')
  try {
    return await start()
  } finally {
    setFlagsFromString(`--semi-space-growth-factor=${V8_GROWTH_FACTOR}`)
  }
}

/**
 * The young generation a running node may grow to: 16 MB semi-spaces, V8's usual maximum.
 * Node 24 on this machine lets them grow to 64 MB; under a churn of short-lived objects (a
 * flood of half-open connections opens and closes hundreds a second) V8 doubled the young
 * generation to 134 MB, which the node kept resident for good while holding 23 MB of live
 * heap. The semi-space maximum is fixed when the heap is created, so the growth factor is
 * held at 1 from the first collection that finds the young generation at the cap.
 */
export const YOUNG_GENERATION_CAP_BYTES = 32 * 1024 * 1024

/**
 * Watches collections and stops V8 growing the young generation once it reaches `capBytes`
 * (it may still shrink, and grow again up to the cap). Returns what stops the watch.
 */
export function capYoungGeneration (capBytes = YOUNG_GENERATION_CAP_BYTES): () => void {
  let held = false
  const check = (): void => {
    const size = getHeapSpaceStatistics().find(s => s.space_name === 'new_space')?.space_size ?? 0
    // A doubling from just under the cap may overshoot it once: the cap is on the size a
    // collection found, not on the next growth.
    const hold = size >= capBytes
    if (hold === held) return
    held = hold
    setFlagsFromString(`--semi-space-growth-factor=${hold ? 1 : V8_GROWTH_FACTOR}`)
  }
  const observer = new PerformanceObserver(check)
  observer.observe({ entryTypes: ['gc'] })
  check()
  return () => { observer.disconnect() }
}
