import createDebug from 'debug'
import type { MeshNode } from '../node/mesh-node.ts'

const log = createDebug('mesh:crash-guard')

/** More internal errors than this in a minute: something is broken for good; leave and exit. */
const MAX_ERRORS_PER_MINUTE = 10
/** Exit code for "internal software error" (sysexits EX_SOFTWARE): a supervisor restarts it. */
const EXIT_SOFTWARE = 70

/**
 * Policy for a running node: peers depend on it, so one bug (an exception in some event
 * listener, a forgotten promise) must not take it down silently. An internal error is
 * printed as one line (the stack with DEBUG=mesh:*), counted in `mesh stats`, and the node
 * keeps running; only a burst of them means the process is no longer sane, and then it
 * leaves the mesh cleanly (peers see "left") and exits 70. Short-lived commands keep
 * Node's default fail-fast behaviour.
 */
export function installCrashGuard (node: MeshNode): void {
  const errors = node.metrics.counter('mesh_internal_errors_total', 'internal errors caught by the crash guard', ['kind'])
  const recent: number[] = []
  let leaving = false
  const onError = (kind: 'uncaught-exception' | 'unhandled-rejection') => (err: unknown): void => {
    errors.inc({ kind })
    const e = err as Error | undefined
    process.stderr.write(`mesh: internal error (${kind}): ${e?.name ?? 'Error'}: ${String(e?.message ?? err).split('\n')[0]}\n`)
    log('%O', err)
    const now = Date.now()
    recent.push(now)
    while (recent.length > 0 && recent[0] < now - 60_000) recent.shift()
    if (recent.length > MAX_ERRORS_PER_MINUTE && !leaving) {
      leaving = true
      process.stderr.write(`mesh: more than ${MAX_ERRORS_PER_MINUTE} internal errors in a minute; leaving the mesh\n`)
      const forceExit = setTimeout(() => process.exit(EXIT_SOFTWARE), 5000)
      forceExit.unref()
      node.shutdown().catch(() => {}).finally(() => process.exit(EXIT_SOFTWARE))
    }
  }
  // A closed terminal or pipe (EIO once the window closed, EPIPE) fails every write to stdout
  // and stderr. Reported as an internal error, that report would fail too, in a loop that
  // starved the node until it gave up; the node's work does not depend on its own output.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {})
  process.on('uncaughtException', onError('uncaught-exception'))
  process.on('unhandledRejection', onError('unhandled-rejection'))
}
