// Nick and peer-id rules are shared with chat and the node's own options.
export { MAX_NICK_LENGTH, MAX_PEER_ID_LENGTH } from '../names.ts'

/** The gossip topic every node publishes its heartbeats and membership claims on. */
export const MEMBERSHIP_TOPIC = 'mesh/membership/1'

/** Wire format version carried in every message; a newer major is a new topic. */
export const MEMBERSHIP_WIRE_VERSION = 1

/**
 * A heartbeat carries a nick, a few addresses and a service list: 4 KiB is several times
 * what a real one needs (about 600 bytes) and small enough that a flood of them is cheap
 * to reject before parsing.
 */
export const MAX_MEMBERSHIP_MESSAGE_BYTES = 4096

export const MAX_ADDRS = 16
export const MAX_ADDR_LENGTH = 256
export const MAX_SERVICES = 64
export const MAX_SERVICE_NAME_LENGTH = 64
export const MAX_ROLES = 8
export const MAX_ROLE_LENGTH = 32
export const MAX_VERSION_LENGTH = 32
export const MAX_WORKERS = 4096
