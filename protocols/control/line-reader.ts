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
  for await (const chunk of source) {
    pending += typeof chunk === 'string' ? chunk : chunk.toString('utf8')
    let newline: number
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline)
      pending = pending.slice(newline + 1)
      if (line.trim() !== '') yield line
    }
    if (Buffer.byteLength(pending) > maxBytes) throw new ControlLineTooLongError(`control line exceeds ${maxBytes} bytes`)
  }
  if (pending.trim() !== '') yield pending
}
