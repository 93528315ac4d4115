/**
 * Characters that act on a terminal instead of showing: C0 controls but tab and newline
 * (ESC starts cursor moves, colours, window titles, hyperlinks; CR rewrites the line), DEL,
 * C1 controls (U+009B alone is a CSI), and the bidirectional controls that make one text
 * read as another.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

/**
 * Text that came from the network, made safe to print at a terminal: every character that
 * would act on the terminal is shown escaped (`\x1b`, `\u202e`), so the user sees that it was
 * there and nothing else changes. `--json` output is never passed through this: scripts get
 * the exact text.
 */
export function terminalSafe (text: string): string {
  return text.replace(UNSAFE, c => {
    const code = c.charCodeAt(0)
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
  })
}
