/**
 * Once a node has left the mesh and stopped, nothing should keep the process: every service
 * clears its timers and closes its sockets on stop. Should one be missed (a library's
 * socket, a timer of a late callback), the process would linger idle after the user asked
 * it to go. This is the safety net, not the fix: after a grace it names what is still open
 * (DEBUG=mesh:* shows it, so the culprit can be found) and exits.
 */
const GRACE_MS = 2000

export function exitIfStillRunningAfterLeave (graceMs = GRACE_MS): void {
  const timer = setTimeout(() => {
    void (async () => {
      const { default: createDebug } = await import('debug')
      createDebug('mesh:cli')('still running %d ms after a clean leave; open resources: %o', graceMs, process.getActiveResourcesInfo())
      process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0)
    })()
  }, graceMs)
  // Unref'd: when nothing else is open, the process ends at once without waiting for it.
  timer.unref()
}
