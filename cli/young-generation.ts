import { setFlagsFromString } from 'node:v8'

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
