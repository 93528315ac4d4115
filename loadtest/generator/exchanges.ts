import { randomBytes } from 'node:crypto'
import { MAX_REPLY_LINE } from './options.ts'
import type { ErrorKind } from './error-kinds.ts'

/**
 * One request/answer protocol for a load client: what to write next, and whether the bytes
 * that came back complete the answer. One message is in flight per connection at a time.
 */
export interface Exchange {
  /** The error kind for bytes that arrive when no answer is due. */
  readonly unexpected: ErrorKind
  /** The bytes of the next request. */
  next (): Buffer
  /**
   * Feeds the first `length` bytes of `buffer` (reused by the next read: copy what is kept):
   * 'more' to wait, 'done' when the answer is complete and right, or the error kind.
   */
  take (buffer: Buffer, length: number): 'more' | 'done' | ErrorKind
}

/**
 * Echo: each message is a slice of a random pool (a random size in [min, max] from a random
 * offset), so answers are checked byte for byte and a server that mixed up two connections
 * or two messages is caught.
 */
export class EchoExchange implements Exchange {
  readonly unexpected = 'wrong_echo'
  private readonly pool: Buffer
  private readonly min: number
  private readonly span: number
  private expected: Buffer = Buffer.alloc(0)
  private received = 0
  private offset = 0

  constructor (min: number, max: number) {
    this.min = min
    this.span = max - min + 1
    this.pool = randomBytes(max + Math.min(max, 65_536))
  }

  next (): Buffer {
    const size = this.span === 1 ? this.min : this.min + Math.floor(Math.random() * this.span)
    // Each message starts elsewhere in the pool (a prime stride), so a replayed or misrouted
    // answer does not match, without a random draw per message.
    this.offset = (this.offset + 7919) % (this.pool.length - size + 1)
    this.expected = this.pool.subarray(this.offset, this.offset + size)
    this.received = 0
    return this.expected
  }

  take (buffer: Buffer, length: number): 'more' | 'done' | ErrorKind {
    const wanted = this.expected.length - this.received
    if (length > wanted) return 'wrong_echo'
    if (this.expected.compare(buffer, 0, length, this.received, this.received + length) !== 0) return 'wrong_echo'
    this.received += length
    return this.received === this.expected.length ? 'done' : 'more'
  }
}

/**
 * Gateway: one request line per message, one JSON object per line back. An answer is right
 * when it parses and says `"ok": true`.
 */
export class GatewayExchange implements Exchange {
  readonly unexpected = 'wrong_reply'
  private readonly request: Buffer
  private pending: Buffer[] = []
  private pendingBytes = 0

  constructor (request: string) {
    this.request = Buffer.from(request + '\n')
  }

  next (): Buffer {
    this.pending = []
    this.pendingBytes = 0
    return this.request
  }

  take (buffer: Buffer, length: number): 'more' | 'done' | ErrorKind {
    const newline = buffer.indexOf(10)
    if (newline < 0 || newline >= length) {
      // Kept across reads: the buffer is reused by the next one.
      this.pending.push(Buffer.from(buffer.subarray(0, length)))
      this.pendingBytes += length
      return this.pendingBytes > MAX_REPLY_LINE ? 'wrong_reply' : 'more'
    }
    // One message in flight: anything after the answer's newline was never asked for.
    if (newline !== length - 1) return 'wrong_reply'
    // An answer in one read (the usual case) is decoded straight from the read buffer.
    const line = this.pending.length === 0
      ? buffer.toString('utf8', 0, newline)
      : Buffer.concat([...this.pending, buffer.subarray(0, newline)]).toString('utf8')
    try {
      const answer = JSON.parse(line)
      return answer != null && typeof answer === 'object' && answer.ok === true ? 'done' : 'wrong_reply'
    } catch {
      return 'wrong_reply'
    }
  }
}
