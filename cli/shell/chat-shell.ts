import { clearScreenDown, createInterface, cursorTo, moveCursor, type Interface } from 'node:readline'
import type { ChatNotice } from '../../node/chat/chat-events.ts'
import type { StoredMessage } from '../../node/chat/chat-store.ts'
import type { MeshNode } from '../../node/mesh-node.ts'
import { DEFAULT_ROOM } from '../../protocols/chat/index.ts'
import { messageLine, noticeLine } from './format.ts'
import { chatCommands, ShellCommands, ShellUsageError, type ShellContext } from './shell-commands.ts'
import { terminalSafe } from '../terminal-safe.ts'
import { workCommands } from './work-commands.ts'

/**
 * The interactive chat shell of `mesh start` on a terminal: a prompt `[nick@room] `, lines
 * arriving from the mesh printed above it without disturbing what is being typed, slash
 * commands from a table, anything else said in the current room.
 */
export class ChatShell {
  private readonly node: MeshNode
  private readonly output: NodeJS.WriteStream
  private readonly rl: Interface
  private readonly commands: ShellCommands
  private room: string
  private closed = false
  /** The terminal went away (SIGHUP): nothing more is written to it. */
  private hungUp = false
  private resolveDone!: () => void
  readonly done: Promise<void>

  constructor (node: MeshNode) {
    this.node = node
    this.output = process.stdout
    this.commands = new ShellCommands()
    chatCommands(this.commands)
    workCommands(this.commands)
    const rooms = node.chat.rooms()
    this.room = rooms.includes(DEFAULT_ROOM) ? DEFAULT_ROOM : rooms[0] ?? DEFAULT_ROOM
    this.done = new Promise(resolve => { this.resolveDone = resolve })
    this.rl = createInterface({ input: process.stdin, output: this.output, terminal: true, historySize: 200 })
  }

  start (): void {
    this.node.chat.on('message', this.onMessage)
    this.node.chat.on('notice', this.onNotice)
    this.rl.on('line', line => { void this.onLine(line) })
    // Ctrl-C and Ctrl-D leave the mesh cleanly, like /quit.
    this.rl.on('SIGINT', () => { this.quit() })
    this.rl.on('close', () => { this.quit() })
    this.print(`${this.node.config.nick} ${this.node.peerId} in ${this.room}; /help lists the commands`)
    const http = this.node.gateway?.http?.address()
    if (http != null) this.print(`dashboard on http://${http.host.includes(':') ? `[${http.host}]` : http.host}:${http.port}/`)
    this.updatePrompt()
    this.rl.prompt()
  }

  /** Prints a line above the prompt and redraws the prompt with the half-typed input intact. */
  print (line: string): void {
    if (this.closed) return
    // A half-typed line longer than the terminal is wide spans several rows: go up to the
    // prompt's first row and clear from there down, or the rows above the cursor stay behind.
    const { rows } = this.rl.getCursorPos()
    if (rows > 0) moveCursor(this.output, 0, -rows)
    cursorTo(this.output, 0)
    clearScreenDown(this.output)
    // Everything the shell prints may carry a peer's text (messages, task results, errors).
    this.output.write(terminalSafe(line) + '\n')
    this.rl.prompt(true)
  }

  quit (): void {
    if (this.closed) return
    this.closed = true
    this.node.chat.off('message', this.onMessage)
    this.node.chat.off('notice', this.onNotice)
    this.output.write('\n-- leaving the mesh…\n')
    this.rl.close()
    this.resolveDone()
  }

  /** After the clean leave: a goodbye, unless the terminal is gone. */
  sayGoodbye (): void {
    if (this.hungUp) return
    this.output.write(`-- left the mesh: peers see ${this.node.config.nick} as left. Bye.\n`)
  }

  /**
   * The terminal is gone (SIGHUP): leave without touching it. Restoring its mode or writing
   * to it fails with EIO, and must not stand between the user and a clean leave.
   */
  hangUp (): void {
    if (this.closed) return
    this.closed = true
    this.hungUp = true
    this.node.chat.off('message', this.onMessage)
    this.node.chat.off('notice', this.onNotice)
    this.output.on('error', () => {})
    this.resolveDone()
    try { this.rl.close() } catch { /* setRawMode EIO: the terminal it would restore is gone */ }
  }

  private updatePrompt (): void {
    this.rl.setPrompt(`[${this.node.config.nick}@${this.room}] `)
  }

  private async onLine (line: string): Promise<void> {
    // The typed line is replaced by its formatted echo (or the command's output): all the
    // rows it took, when it was longer than the terminal is wide.
    const columns = (this.output.columns ?? 0) > 0 ? this.output.columns : 80
    const typedRows = Math.max(1, Math.ceil((this.rl.getPrompt().length + line.length) / columns))
    moveCursor(this.output, 0, -typedRows)
    cursorTo(this.output, 0)
    clearScreenDown(this.output)
    const text = line.trim()
    try {
      if (text === '') return
      // `//` says a line that starts with "/" (the usual escape of chat clients).
      if (text.startsWith('//')) await this.node.chat.send(this.room, line.trimStart().slice(1))
      else if (text.startsWith('/')) await this.runCommand(text)
      else await this.node.chat.send(this.room, line)
    } catch (err: any) {
      this.print(`-- ${String(err?.message ?? err)}`)
    } finally {
      if (!this.closed) this.rl.prompt(true)
    }
  }

  private async runCommand (text: string): Promise<void> {
    const [, name, args] = /^\/(\S+)\s*(.*)$/s.exec(text) ?? []
    const command = this.commands.get(name)
    if (command == null) {
      this.print(`-- unknown command /${name}; /help lists them`)
      return
    }
    try {
      await command.run(args, this.context())
    } catch (err) {
      if (!(err instanceof ShellUsageError)) throw err
      // The reason, then the usage, as two sentences.
      this.print(`-- ${err.message.replace(/[.?!]?$/, m => m === '' ? '.' : m)} Usage: /${command.name} ${command.args}`.trimEnd())
    }
  }

  private context (): ShellContext {
    return {
      node: this.node,
      room: this.room,
      setRoom: room => { this.room = room; this.updatePrompt() },
      print: line => { this.print(line) },
      quit: () => { this.quit() }
    }
  }

  private readonly onMessage = (m: StoredMessage): void => {
    const chat = this.node.chat
    if (m.to == null && !chat.rooms().includes(m.room)) return
    const recipient = m.to != null ? chat.peers.label(m.to, chat.peers.known().get(m.to) ?? m.to) : undefined
    this.print(messageLine(m, chat.peers.label(m.from, m.nick), this.room, chat.selfId, recipient))
  }

  private readonly onNotice = (n: ChatNotice): void => {
    this.print(noticeLine(n, this.node.chat.peers.label(n.peer, n.nick)))
  }
}

/** Runs the shell on the terminal until /quit, Ctrl-C or Ctrl-D, then leaves the mesh. */
export async function runShell (node: MeshNode): Promise<void> {
  const shell = new ChatShell(node)
  shell.start()
  const onTerm = (): void => { shell.quit() }
  process.once('SIGTERM', onTerm)
  // Closing the terminal window (SIGHUP) is leaving, like /quit: peers show "left".
  const onHangUp = (): void => { shell.hangUp() }
  process.once('SIGHUP', onHangUp)
  await shell.done
  process.off('SIGTERM', onTerm)
  process.off('SIGHUP', onHangUp)
  await node.shutdown()
  shell.sayGoodbye()
}
