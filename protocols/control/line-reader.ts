import { StringDecoder } from 'node:string_decoder'
import { MAX_CONTROL_LINE_BYTES } from './constants.ts'

export class ControlLineTooLongError extends Error {
  override name = 'ControlLineTooLongError'
}

/**
 * Splits a byte stream into lines, bounded: a line longer than `maxBytes` throws instead of
 * growing the buffer without end.
 */
export async function * readLines (source: AsyncIterable<Buffer | string>, maxBytes = MAX_CONTROL_LINE_BYTES): AsyncGenerator<string> {
  let pending = ''
  // A character split across two chunks (a long history answer) must not become U+FFFD.
  const utf8 = new StringDecoder('utf8')
  for await (const chunk of source) {
    pending += typeof chunk === 'string' ? chunk : utf8.write(chunk)
    for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n')) {
      const line = pending.slice(0, newline)
      pending = pending.slice(newline + 1)
      if (line.trim() !== '') yield line
    }
    if (Buffer.byteLength(pending) > maxBytes) throw new ControlLineTooLongError(`control line exceeds ${maxBytes} bytes`)
  }
  pending += utf8.end()
  if (pending.trim() !== '') yield pending
}
