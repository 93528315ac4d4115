import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { waitUntil } from './mesh-process.ts'

const run = promisify(execFile)

/**
 * Terminals for tests, on a private tmux server (`tmux -L meshtest<pid>`), so a test never
 * touches a user's sessions; `kill` removes the server and everything in it.
 */
export class TmuxServer {
  readonly socket = `meshtest${process.pid}`

  async tmux (...args: string[]): Promise<string> {
    const { stdout } = await run('tmux', ['-L', this.socket, ...args])
    return stdout
  }

  /** A new 120x30 terminal running `command` (argv), named `name`. */
  async open (name: string, command: string[]): Promise<void> {
    const quoted = command.map(a => `'${a.replaceAll("'", "'\\''")}'`).join(' ')
    // Keep the pane after exit so the test can read the exit line.
    await this.tmux('new-session', '-d', '-s', name, '-x', '120', '-y', '30', `${quoted}; echo "EXITED $?"; sleep 600`)
  }

  /** Types text; `enter` presses Enter after it. Literal mode: nothing is read as a key name. */
  async type (name: string, text: string, enter = false): Promise<void> {
    await this.tmux('send-keys', '-t', name, '-l', text)
    if (enter) await this.tmux('send-keys', '-t', name, 'Enter')
  }

  /** What the terminal shows; a line longer than the terminal is wrapped but read as one line. */
  async screen (name: string): Promise<string> {
    return await this.tmux('capture-pane', '-p', '-J', '-t', name)
  }

  /** The last non-empty line of the screen: where the prompt is. */
  async promptLine (name: string): Promise<string> {
    const lines = (await this.screen(name)).split('\n').map(l => l.trimEnd()).filter(l => l !== '')
    return lines.at(-1) ?? ''
  }

  async waitForScreen (name: string, what: string | RegExp, timeoutMs = 15_000): Promise<string> {
    let last = ''
    try {
      await waitUntil(`${name}'s screen to show ${String(what)}`, async () => {
        last = await this.screen(name)
        return typeof what === 'string' ? last.includes(what) : what.test(last)
      }, timeoutMs, 100)
    } catch (err: any) {
      throw new Error(`${err.message}; the screen was:\n${last}`)
    }
    return last
  }

  async kill (): Promise<void> {
    await this.tmux('kill-server').catch(() => {})
  }
}
