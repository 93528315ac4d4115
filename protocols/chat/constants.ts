/** Rooms are gossip topics `mesh/chat/<room>/1`; a breaking change of the message gets `/2`. */
export const CHAT_TOPIC_PREFIX = 'mesh/chat/'
export const CHAT_TOPIC_SUFFIX = '/1'

/** The room a node is in from the start, and the default of `mesh chat send`. */
export const DEFAULT_ROOM = 'lobby'

/** Wire format version carried in every message, direct message and sync frame. */
export const CHAT_WIRE_VERSION = 1

/** Direct messages, one per stream, answered by an acknowledgement frame. */
export const CHAT_DM_PROTOCOL = '/mesh/chat-dm/1.0.0'
/**
 * Room messages pushed by their author to each member it is connected to, over one
 * long-lived stream per peer; the messages of one event-loop turn (or written while the last
 * frame was on its way) go in one frame.
 */
export const CHAT_PUSH_PROTOCOL = '/mesh/chat-push/1.0.0'
/** Anti-entropy: "here is what I have of room R", answered by a batch of what I lack. */
export const CHAT_SYNC_PROTOCOL = '/mesh/chat-sync/1.0.0'

/** Room names: short, printable, no slash (it would change the topic's shape). */
export const MAX_ROOM_LENGTH = 64
export const ROOM_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

/** 4 KiB of UTF-8 per message: a long paragraph, not a file transfer. */
export const MAX_TEXT_BYTES = 4096
/**
 * A whole encoded message: the text JSON-escaped (a control character grows to six bytes),
 * plus nick, ids and a signature. Checked before parsing so an oversized one costs nothing.
 */
export const MAX_CHAT_MESSAGE_BYTES = 32 * 1024

/** HLC logical counter: bumps within one millisecond; 2^31 is far beyond any real burst. */
export const MAX_LOGICAL = 2 ** 31 - 1
/**
 * How far ahead of the receiver's clock a message may be dated. One minute is far above the
 * skew of NTP-synced clocks; a message dated later is refused for now (gossip drops it,
 * anti-entropy offers it again later, a DM is retried), so it can neither stick to the end
 * of every history nor drag every clock forward.
 */
export const MAX_FUTURE_SKEW_MS = 60_000

/** One sync answer holds at most this many messages; the asker pulls again for more. */
export const MAX_SYNC_BATCH = 256
/** One sync answer holds at most this many bytes of messages (before framing). */
export const MAX_SYNC_BATCH_BYTES = 1024 * 1024
/** A sync frame: the batch above plus framing, with room to spare. */
export const MAX_SYNC_FRAME_BYTES = 2 * 1024 * 1024
/** A digest names at most this many senders of one room. */
export const MAX_DIGEST_SENDERS = 4096
/** A digest frame: 4096 senders of about 70 bytes each. */
export const MAX_DIGEST_FRAME_BYTES = 512 * 1024
/** A push frame holds at most this many messages. */
export const MAX_PUSH_BATCH = 64
/** A push frame: a few full-size messages or many short ones; the sender cuts its batches to fit. */
export const MAX_PUSH_FRAME_BYTES = 256 * 1024
/**
 * A push stream lives as long as its author keeps talking: the author closes it after
 * PUSH_IDLE_CLOSE_MS without a message (and opens a new one when it speaks again), the
 * receiver gives up a stream silent for PUSH_READ_TIMEOUT_MS, mid-frame or not.
 */
export const PUSH_IDLE_CLOSE_MS = 30_000
export const PUSH_READ_TIMEOUT_MS = 60_000
/** An acknowledgement frame is tiny. */
export const MAX_ACK_FRAME_BYTES = 1024

/** Every read on a chat stream gives up after this long: a silent peer costs one timer. */
export const STREAM_READ_TIMEOUT_MS = 5000
