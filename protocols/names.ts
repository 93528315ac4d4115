/**
 * Names every protocol carries: a node's nick and a peer id as text. One definition, so a
 * nick that membership accepts is one chat accepts, and the other way round.
 */

/** Long enough for a name people pick, short enough to sit in a table column. */
export const MAX_NICK_LENGTH = 32
/** Peer ids are base58btc strings; an Ed25519 id is 52 characters, RSA ones are longer. */
export const MAX_PEER_ID_LENGTH = 128

/**
 * A nick: 1 to MAX_NICK_LENGTH characters, no whitespace or control characters. Nicks reach
 * terminals (the shell, `mesh peers`, logs) and are typed back (`/msg bob`, `bob#x1y2z3`):
 * an escape sequence in one would rewrite the screen, a space would split the name.
 */
export function isValidNick (s: string): boolean {
  return s.length >= 1 && s.length <= MAX_NICK_LENGTH && !/[\s\p{Cc}]/u.test(s)
}
