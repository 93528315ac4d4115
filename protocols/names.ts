/**
 * The names every protocol carries (a node's nick, its peer id), with one rule each, so a
 * nick that `mesh start --name` accepts is one that membership and chat accept on the wire,
 * and the reverse.
 */

/** A nick is a handle shown in tables, prompts and notices: 32 characters fit a column. */
export const MAX_NICK_LENGTH = 32

/** Peer ids are base58btc strings; an Ed25519 id is 52 characters, RSA ones are longer. */
export const MAX_PEER_ID_LENGTH = 128

/** The base58btc alphabet: a cheap shape check; comparing with the signer does the real work. */
export const PEER_ID_PATTERN = /^[1-9A-HJ-NP-Za-km-z]+$/

/**
 * Whitespace would split a nick in `/msg NICK TEXT` and misalign the columns of
 * `mesh peers`; a control character (C0, DEL, C1) would let a nick recolour or rewrite the
 * terminal of whoever prints it; a bidirectional override or mark would make one nick read as
 * another ("lamron" shown as "normal").
 */
// The control characters (Unicode category Cc) are spelled out rather than written \p{Cc}: a
// Unicode property makes V8 read ICU's tables, about 5 MB of every node's memory.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const NICK_FORBIDDEN = /[\s\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u

/** What is wrong with `nick` as a nick, as the end of a sentence; null when it is fine. */
export function nickProblem (nick: string): string | null {
  if (nick.length === 0 || nick.length > MAX_NICK_LENGTH) return `must be 1 to ${MAX_NICK_LENGTH} characters`
  if (NICK_FORBIDDEN.test(nick)) return 'must not contain spaces, control characters or bidirectional controls'
  return null
}

export function isValidNick (nick: string): boolean {
  return nickProblem(nick) == null
}
