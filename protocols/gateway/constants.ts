/** A request line longer than this (newline excluded) is skipped up to its newline and answered with an error. */
export const MAX_LINE_BYTES = 64 * 1024
/** `range` answers at most this many primes; wider ranges are for `count` or the paged HTTP endpoint. */
export const MAX_RANGE_PRIMES = 100_000
/** `prime N`: N of at most this many digits (a 300-digit prime takes about 7 ms to confirm). */
export const MAX_PRIME_DIGITS = 300
/** Prime bounds are exact up to 2^64 - 1. */
export const MAX_BOUND = (1n << 64n) - 1n
/** A JSON request's `id`: a string of at most this many characters, or a safe integer. */
export const MAX_ID_LENGTH = 128

export const CALC_OPS = ['sum', 'average', 'max', 'min'] as const
export const TEXT_OPS = ['count_words', 'count_chars', 'uppercase', 'lowercase'] as const

/** The commands, with their one-line usage, as `help` lists them. */
export const COMMANDS: Record<string, string> = {
  prime: 'prime N: is N prime? {"n","is_prime","peer"}',
  range: `range A B: the primes in [A, B] (at most ${MAX_RANGE_PRIMES}) {"count","primes","peer"}`,
  count: 'count A B: how many primes in [A, B], across the mesh for big ranges {"count",…,"peer" or "shards","peers"}',
  stats: 'stats: the gateway\'s counters and latencies',
  hello: 'hello: "World" from whichever peer serves greeter.hello',
  echo: 'echo TEXT: TEXT back, from the gateway itself',
  calc: `calc ${CALC_OPS.join('|')} NUMBERS…`,
  text: `text ${TEXT_OPS.join('|')} TEXT…`,
  peers: 'peers: the members this node knows, with their roles',
  help: 'help: this list; every command also as JSON, e.g. {"cmd":"count","from":1,"to":100000,"id":7}'
}
