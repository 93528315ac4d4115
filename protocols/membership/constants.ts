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

export const MAX_NICK_LENGTH = 32
export const MAX_ADDRS = 16
export const MAX_ADDR_LENGTH = 256
export const MAX_SERVICES = 64
export const MAX_SERVICE_NAME_LENGTH = 64
export const MAX_ROLES = 8
export const MAX_ROLE_LENGTH = 32
export const MAX_VERSION_LENGTH = 32
/** Peer ids are base58btc strings; an Ed25519 id is 52 characters, RSA ones are longer. */
export const MAX_PEER_ID_LENGTH = 128
export const MAX_WORKERS = 4096
