/**
 * Errors of the rpc protocol. Both ends use the same names: a server sends `{name, message}`
 * and the client rebuilds an error with that name, so callers check `err.name` whichever
 * side raised it.
 */

/** A frame that is not a valid rpc frame. `reason` is a stable label for drop counters. */
export class InvalidRpcFrameError extends Error {
  override name = 'InvalidRpcFrameError'
  readonly reason: string
  /** The request id, when the frame was readable far enough to have one. */
  readonly id?: number

  constructor (reason: string, message: string, id?: number) {
    super(message)
    this.reason = reason
    this.id = id
  }
}

/** The length prefix announces more than MAX_RPC_FRAME_BYTES: the stream cannot resync. */
export class FrameTooLargeError extends InvalidRpcFrameError {
  override name = 'FrameTooLargeError'
}

/** The stream ended in the middle of a frame. */
export class TruncatedFrameError extends InvalidRpcFrameError {
  override name = 'TruncatedFrameError'
}

/** No handler for that service on the peer asked. */
export class UnknownServiceError extends Error {
  override name = 'UnknownServiceError'
}

/** The service exists but has no such method. */
export class UnknownMethodError extends Error {
  override name = 'UnknownMethodError'
}

/** The arguments do not fit the method (wrong type, missing, out of range). */
export class InvalidArgumentsError extends Error {
  override name = 'InvalidArgumentsError'
}

/** The request's deadline passed before an answer. */
export class DeadlineExceededError extends Error {
  override name = 'DeadlineExceededError'
}

/** The caller gave up (its AbortSignal fired). */
export class RpcCancelledError extends Error {
  override name = 'RpcCancelledError'
}

/** The peer is at its limit of requests in flight; the handler did not run. */
export class TooManyRequestsError extends Error {
  override name = 'TooManyRequestsError'
}

/** The peer is shutting down; the handler did not run. */
export class ServiceUnavailableError extends Error {
  override name = 'ServiceUnavailableError'
}

/** The stream or connection to the peer closed before the answer came. */
export class ConnectionLostError extends Error {
  override name = 'ConnectionLostError'
}

/** No stream could be opened to the peer; the request was never sent. */
export class DialFailedError extends Error {
  override name = 'DialFailedError'
}

/** The answer would not fit in a frame; a method with big answers must stream them. */
export class ResultTooLargeError extends Error {
  override name = 'ResultTooLargeError'
}

/** No live peer advertises the service (discovery found nobody). */
export class NoPeerForServiceError extends Error {
  override name = 'NoPeerForServiceError'
}

export interface FailedAttempt {
  peer: string
  error: { name: string, message: string }
}

/** Every attempt the retry policy allowed failed; `attempts` says where and why. */
export class AllAttemptsFailedError extends Error {
  override name = 'AllAttemptsFailedError'
  readonly attempts: FailedAttempt[]

  constructor (message: string, attempts: FailedAttempt[]) {
    super(message)
    this.attempts = attempts
  }
}

/** An error a remote handler raised, rebuilt on the caller's side with the remote name. */
export class RemoteRpcError extends Error {
  readonly peer: string

  constructor (name: string, message: string, peer: string) {
    super(message)
    this.name = name
    this.peer = peer
  }
}

/**
 * Errors after which the handler certainly did not run: any call, idempotent or not, may
 * be sent again, to the same peer after a backoff or to another.
 */
export const NOT_EXECUTED_ERRORS: ReadonlySet<string> = new Set([
  'TooManyRequestsError', 'ServiceUnavailableError', 'DialFailedError'
])

/**
 * The peer does not serve what it advertised (an advertisement older than a restart):
 * another peer may, the same one will not.
 */
export const NOT_SERVED_ERRORS: ReadonlySet<string> = new Set([
  'UnknownServiceError', 'UnknownMethodError'
])

/** Errors after which the handler may have run: only idempotent calls are retried. */
export const MAYBE_EXECUTED_ERRORS: ReadonlySet<string> = new Set([
  'ConnectionLostError', 'DeadlineExceededError'
])
