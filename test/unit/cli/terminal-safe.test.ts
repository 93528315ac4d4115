import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { terminalSafe } from '../../../cli/terminal-safe.ts'

describe('terminalSafe', () => {
  it('shows controls escaped and leaves the rest of the text as it was', () => {
    expect(terminalSafe('\u001b[2Jclear')).toBe('\\x1b[2Jclear')
    expect(terminalSafe('\u001b]0;title\u0007')).toBe('\\x1b]0;title\\x07')
    expect(terminalSafe('a\rb\u007fc\u009b31m')).toBe('a\\x0db\\x7fc\\x9b31m')
    expect(terminalSafe('\u202elamron')).toBe('\\u202elamron')
    expect(terminalSafe('two\nlines\tand a tab, Zoë, 👩‍💻')).toBe('two\nlines\tand a tab, Zoë, 👩‍💻')
  })

  it('never lets a character through that acts on a terminal', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), text => {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point
      expect(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(terminalSafe(text))).toBe(false)
    }))
  })
})
