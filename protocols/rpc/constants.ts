/** The one point-to-point request/response protocol of the mesh. */
export const RPC_PROTOCOL = '/mesh/rpc/1.0.0'

/**
 * Largest frame either end sends or accepts. A calc request with tens of thousands of
 * numbers or a chunk of a prime list fits easily; larger answers stream as several frames.
 * Checked on the length prefix, before a byte of the body is buffered.
 */
export const MAX_RPC_FRAME_BYTES = 1024 * 1024

/** An unsigned varint of MAX_RPC_FRAME_BYTES takes 3 bytes; a longer prefix is garbage. */
export const MAX_LENGTH_PREFIX_BYTES = 3

/**
 * Concurrent inbound rpc streams one peer may hold open. A client multiplexes its calls on
 * a handful of long-lived streams (see the client's pool), so 8 leaves room and stops a
 * peer from pinning memory with thousands of idle streams.
 */
export const MAX_INBOUND_STREAMS_PER_PEER = 8

/**
 * Requests in flight on one stream. The server answers TooManyRequestsError beyond it
 * (without running the handler), so a well-behaved client spreads onto another stream.
 */
export const MAX_REQUESTS_PER_STREAM = 128

/** Malformed frames tolerated on one stream before the server resets it. */
export const MAX_INVALID_FRAMES_PER_STREAM = 8

export const MAX_SERVICE_NAME_LENGTH = 32
export const MAX_METHOD_NAME_LENGTH = 32
/** Service and method names: lower case, digits, `_` and `-`, starting with a letter. */
export const NAME_PATTERN = /^[a-z][a-z0-9_-]*$/

/** Request ids are chosen by the caller, unique among its in-flight calls on one stream. */
export const MAX_REQUEST_ID = Number.MAX_SAFE_INTEGER

/** The longest deadline a request may carry: one hour, longer than any shard should take. */
export const MAX_DEADLINE_MS = 60 * 60 * 1000

export const MAX_ERROR_NAME_LENGTH = 64
export const MAX_ERROR_MESSAGE_LENGTH = 1024
