/** The four ways `mesh echo` serves its connections. */
export const ECHO_MODELS = ['event', 'fork', 'cluster', 'threads'] as const
export type EchoModel = typeof ECHO_MODELS[number]

/**
 * A connection that sends nothing for this long is closed: a client that vanished without a
 * FIN (a pulled cable, a killed VM) must not hold a slot forever. Two minutes is far above
 * any pause of a live load test.
 */
export const IDLE_TIMEOUT_MS = 120_000

/**
 * Open connections one process holds at most (node:net's maxConnections: beyond it a new
 * connection is closed at once and counted). Each costs a socket and about 20 KiB of buffers;
 * 20,000 is far above the studied loads and well inside memory.
 */
export const MAX_CONNECTIONS = 20_000

/**
 * Live children of the fork model when --workers is not given. Each child is a whole Node
 * process (about 40 MB), so the cap bounds memory: 64 children is 2.5 GB at worst.
 */
export const DEFAULT_FORK_CHILDREN = 64

/**
 * Accepted connections the fork model keeps waiting (paused, unread) for a free child;
 * beyond this a new connection is closed at once and counted as rejected.
 */
export const FORK_WAITING_LIMIT = 10_000

/** Most processes or threads for --workers. */
export const MAX_WORKERS = 1024
