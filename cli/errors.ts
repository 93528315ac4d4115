/**
 * Errors the CLI turns into exit codes. Anything that reaches the top level is printed as
 * one line on stderr, never as a stack trace (set DEBUG=mesh:* to see the stack).
 */

/** Bad arguments: exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** The work failed, or no node runs in the home: exit code 1. */
export class WorkFailedError extends Error {
  override name = 'WorkFailedError'
}

/**
 * What a node answers when a peer name matches no peer (UnknownPeerError) or several
 * (AmbiguousPeerError, its message lists them as nick#suffix). The arguments were well
 * formed; the mesh has no such peer now (it may be away and come back), so the command
 * failed: exit 1, the node's own words on one line, the same for call, task and dm.
 */
export const PEER_NAME_ERRORS: ReadonlySet<string> = new Set(['UnknownPeerError', 'AmbiguousPeerError'])

export const EXIT_OK = 0
export const EXIT_FAILED = 1
export const EXIT_USAGE = 2
