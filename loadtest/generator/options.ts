export const LOAD_PROTOCOLS = ['echo', 'gateway'] as const
export type LoadProtocol = typeof LOAD_PROTOCOLS[number]

export interface LoadTestOptions {
  host: string
  port: number
  clients: number
  /** Messages per client; with a duration, the test also stops when every client sent these. */
  messages?: number
  /** Seconds to run; without it the test ends when every client has its `messages` answers. */
  durationS?: number
  /** Open loop: total messages per second over all clients. Without it: closed loop. */
  rate?: number
  /** New connections per second; without it every client connects at once. */
  connectRate?: number
  /** Message size in bytes (echo): each message takes a size from [sizeMin, sizeMax]. */
  sizeMin: number
  sizeMax: number
  protocol: LoadProtocol
  /** The gateway request line each message sends. */
  request: string
  /** An answer later than this is a timeout, and the client stops. */
  timeoutMs: number
  /**
   * Seconds of the same load run first, on their own connections, its figures discarded:
   * a fresh server (and this generator) runs its first thousands of requests unoptimised
   * and grows its heap meanwhile, which an open loop charges to every request queued behind.
   */
  warmupS?: number
}

/**
 * The warm-up of an open loop unless --warmup says otherwise: on a fresh gateway node, 10,000
 * requests/s gave a p99 of 154 ms in the first 3 s and 76 ms in the next; after a second of
 * the same load it is the warm figure.
 */
export const DEFAULT_OPEN_LOOP_WARMUP_S = 1
/** Messages per client when neither --messages nor --duration is given. */
export const DEFAULT_MESSAGES = 100
export const DEFAULT_CLIENTS = 50
export const DEFAULT_SIZE = 32
/** A second without an answer on loopback is a stalled server; ten is a broken one. */
export const DEFAULT_TIMEOUT_MS = 10_000
export const DEFAULT_GATEWAY_REQUEST = 'prime 104729'
/** Largest echo message: 16 MiB keeps each client's pool of random bytes small. */
export const MAX_SIZE = 16 * 1024 * 1024
/** Longest gateway answer line read; a longer one is a wrong reply. */
export const MAX_REPLY_LINE = 1024 * 1024
