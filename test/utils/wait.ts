/**
 * Polls `check` until it returns true and resolves with the ms that took. After `timeoutMs`
 * it fails with a message naming `what` it waited for (and the last error `check` threw), so
 * a test that waits on a condition says which one never came.
 */
export async function waitUntil (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000, everyMs = 50): Promise<number> {
  const started = Date.now()
  let lastError: unknown
  while (Date.now() - started < timeoutMs) {
    try {
      if (await check()) return Date.now() - started
    } catch (err) {
      lastError = err
    }
    await sleep(everyMs)
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError != null ? ` (last error: ${String(lastError)})` : ''}`)
}

/** A plain pause: only for pacing a loop, never as a stand-in for a condition. */
export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}
