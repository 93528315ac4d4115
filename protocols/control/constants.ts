/** The node's control socket in its home: how `mesh peers` & co talk to `mesh start`. */
export const CONTROL_SOCKET_FILE = 'mesh.sock'

/** One request or response line; a long chat history page is the largest, far below this. */
export const MAX_CONTROL_LINE_BYTES = 8 * 1024 * 1024

export const CONTROL_PROTOCOL_VERSION = 1
