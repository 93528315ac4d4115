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
 * (AmbiguousPeerError, its message lists them as nick#suffix). The argument names nobody
 * the node can pick, so it is a wrong argument: exit 2 with the node's own words on one
 * line, the same for call, task and dm, before anything ran anywhere.
 */
export const PEER_NAME_ERRORS: ReadonlySet<string> = new Set(['UnknownPeerError', 'AmbiguousPeerError'])

export const EXIT_OK = 0
export const EXIT_FAILED = 1
export const EXIT_USAGE = 2
