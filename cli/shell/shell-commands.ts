import type { MeshNode } from '../../node/mesh-node.ts'
import { qualifiedName } from '../../node/peers/peer-names.ts'
import { GONE_LISTED_MS, goneLongAgo, isGoneState } from '../gone-members.ts'
import { checkRoom } from '../../protocols/chat/index.ts'
import { messageLine } from './format.ts'

/** What a command may use: the node, the shell's state, and a way to print above the prompt. */
export interface ShellContext {
  node: MeshNode
  room: string
  setRoom: (room: string) => void
  print: (line: string) => void
  quit: () => void
}

export interface ShellCommand {
  name: string
  /** Shown in /help after the name, e.g. "ROOM". */
  args: string
  help: string
  run: (args: string, ctx: ShellContext) => Promise<void> | void
}

/** Thrown by a command when the user typed it wrong: the shell prints the message and the usage. */
export class ShellUsageError extends Error {
  override name = 'ShellUsageError'
}

/**
 * The shell's command table: each group of commands (chat, work) registers its own, so a
 * new group adds a file and changes nothing else in the shell.
 */
export class ShellCommands {
  private readonly commands = new Map<string, ShellCommand>()

  register (command: ShellCommand): void {
    this.commands.set(command.name, command)
  }

  get (name: string): ShellCommand | undefined {
    return this.commands.get(name)
  }

  list (): ShellCommand[] {
    return [...this.commands.values()]
  }
}

const HISTORY_LINES = 20
const MAX_HISTORY_LINES = 1000

/** The chat commands: /join /leave /rooms /peers /msg /history /help /quit. */
export function chatCommands (table: ShellCommands): void {
  table.register({
    name: 'join',
    args: 'ROOM',
    help: 'enter a room and make it the current one',
    run: (args, ctx) => {
      const room = args.trim()
      if (room === '') throw new ShellUsageError('which room?')
      try { checkRoom(room) } catch (err: any) { throw new ShellUsageError(`${err.message}.`) }
      ctx.node.chat.join(room)
      ctx.setRoom(room)
      ctx.print(`-- now in ${room}`)
    }
  })
  table.register({
    name: 'leave',
    args: '',
    help: 'leave the current room',
    run: (_args, ctx) => {
      const others = ctx.node.chat.rooms().filter(r => r !== ctx.room)
      if (others.length === 0) throw new ShellUsageError(`${ctx.room} is your only room: /join another first`)
      ctx.node.chat.leave(ctx.room)
      ctx.print(`-- left ${ctx.room}, now in ${others[0]}`)
      ctx.setRoom(others[0])
    }
  })
  table.register({
    name: 'rooms',
    args: '',
    help: 'the rooms you are in',
    run: (_args, ctx) => {
      for (const room of ctx.node.chat.rooms()) {
        const count = ctx.node.chat.store.count(room)
        ctx.print(`${room === ctx.room ? '*' : ' '} ${room} (${count} ${count === 1 ? 'message' : 'messages'})`)
      }
    }
  })
  const peers: ShellCommand = {
    name: 'peers',
    args: '[all]',
    help: `the members of the mesh and their state (all: also those gone over ${GONE_LISTED_MS / 1000} s)`,
    run: (args, ctx) => {
      const all = args.trim() === 'all'
      if (!all && args.trim() !== '') throw new ShellUsageError('/peers takes nothing, or "all".')
      const now = ctx.node.config.clock.now()
      const members = ctx.node.membership.members()
      const listed = all ? members : members.filter(m => !goneLongAgo(m.state, now - m.stateSince))
      // nick#abc123: how to name each of them in /msg and /calc @PEER, even when nicks clash.
      ctx.print(`  ${qualifiedName(ctx.node.membership.selfMember())} (you)`)
      for (const m of listed) {
        const since = isGoneState(m.state) ? ` ${Math.round((now - m.stateSince) / 1000)} s ago` : ''
        ctx.print(`  ${qualifiedName(m)} ${m.state}${since}`)
      }
      const hidden = members.length - listed.length
      if (hidden > 0) ctx.print(`  (${hidden} gone for more than ${GONE_LISTED_MS / 1000} s: /peers all lists them)`)
    }
  }
  table.register(peers)
  table.register({ ...peers, name: 'list', help: 'the same as /peers' })
  table.register({
    name: 'msg',
    args: 'PEER TEXT',
    help: 'a direct message to a nick, nick#abc123 or …abc123, delivered when the peer is there',
    run: async (args, ctx) => {
      const match = /^(\S+)\s+(.+)$/s.exec(args.trim())
      if (match == null) throw new ShellUsageError('to whom, and what?')
      const { delivered } = await ctx.node.chat.dm(match[1], match[2])
      if (!delivered) ctx.print(`-- queued for ${match[1]}: delivered when it is back`)
    }
  })
  table.register({
    name: 'history',
    args: '[N]',
    help: `the last N messages of the room (default ${HISTORY_LINES})`,
    run: (args, ctx) => {
      const text = args.trim()
      const n = text === '' ? HISTORY_LINES : Number(text)
      if (!Number.isInteger(n) || n < 1 || n > MAX_HISTORY_LINES) throw new ShellUsageError(`N is a whole number from 1 to ${MAX_HISTORY_LINES}.`)
      const chat = ctx.node.chat
      const label = chat.peers.labeller()
      for (const m of chat.history(ctx.room, n)) ctx.print(messageLine(m, label(m.from, m.nick), ctx.room, chat.selfId))
    }
  })
  table.register({
    name: 'help',
    args: '',
    help: 'this list',
    run: (_args, ctx) => {
      for (const c of table.list()) ctx.print(`  /${`${c.name} ${c.args}`.trim().padEnd(24)} ${c.help}`)
      ctx.print('  anything else is said in the current room; start it with // to say a line that begins with /')
    }
  })
  table.register({
    name: 'quit',
    args: '',
    help: 'leave the mesh cleanly and exit',
    run: (_args, ctx) => { ctx.quit() }
  })
}
