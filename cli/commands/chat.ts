import type { Command } from 'commander'
import { DEFAULT_ROOM, MAX_TEXT_BYTES } from '../../protocols/chat/constants.ts'
import { checkRoom } from '../../protocols/chat/room.ts'
import { callNode, streamFromNode } from '../control-client.ts'
import { PEER_NAME_ERRORS, UsageError } from '../errors.ts'
import { homeOf, parsePositiveInt, PEER_NAME_HELP, withHome, withJson } from '../options.ts'
import { plural, printJson } from '../output.ts'
import { clock, sanitize } from '../shell/format.ts'

interface MessageJson {
  id: string
  from: string
  nick: string
  /** The nick, or nick#abc123 when two peers hold it. */
  label?: string
  ts: number
  text: string
  to?: string
}

/** Errors the node reports about what the user typed: exit 2, like any other misuse. */
const USAGE_ERRORS = new Set(['InvalidRoomError', 'InvalidChatParamsError', 'InvalidChatMessageError'])

async function ask<T> (run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err: any) {
    if (USAGE_ERRORS.has(err?.name)) throw new UsageError(err.message)
    if (PEER_NAME_ERRORS.has(err?.name)) throw new UsageError(err.message)
    throw err
  }
}

function textOf (words: string[]): string {
  const text = words.join(' ')
  if (text.trim() === '') throw new UsageError('say something: the text is empty')
  const bytes = Buffer.byteLength(text)
  if (bytes > MAX_TEXT_BYTES) throw new UsageError(`the text is ${bytes} bytes; a message holds at most ${MAX_TEXT_BYTES}`)
  return text
}

function roomOf (opts: { room?: string, dm?: string }): Record<string, string> {
  if (opts.dm != null && opts.room != null) throw new UsageError('give --room or --dm, not both')
  if (opts.dm != null) return { dm: opts.dm }
  const room = opts.room ?? DEFAULT_ROOM
  if (room.startsWith('@')) return { dm: room.slice(1) }
  try { checkRoom(room) } catch (err: any) { throw new UsageError(err.message) }
  return { room }
}

interface HistoryJson {
  room: string
  messages: MessageJson[]
  /** Absent from older nodes. */
  total?: number
  joinedNow?: boolean
}

/** "lobby: 3 messages", "lobby: the last 100 of 250 messages", or why there are none yet. */
export function historyHeader (h: HistoryJson): string {
  const name = sanitize(h.room)
  const total = h.total ?? h.messages.length
  if (total === 0 && h.joinedNow === true) return `${name}: no messages yet. This node joined the room just now; its past arrives from the members within seconds.`
  if (total === 0) return `${name}: no messages`
  if (h.messages.length < total) return `${name}: the last ${h.messages.length} of ${plural(total, 'message')}`
  return `${name}: ${plural(total, 'message')}`
}

export function formatLine (m: MessageJson): string {
  return `${clock(m.ts)} ${sanitize(m.label ?? m.nick)}: ${sanitize(m.text)}`
}

const CONVERSATION_HELP = `
A conversation is a room (default "${DEFAULT_ROOM}") or the direct messages with one peer:
--dm NICK, or --room @NICK. A peer is named by its nick, by nick#abc123 (the end of its
peer id) when two peers share a nick, by its peer id, or by the end of it (…abc123, at
least 6 characters, as mesh peers shows it). Reading a room the node is not in joins it:
its past arrives from the members within seconds.`

/** `mesh chat send|history|tail` and `mesh dm`. */
export function registerChatCommands (program: Command): void {
  const chat = program.command('chat').description('rooms without a server: send, read the history, follow')

  withJson(withHome(chat.command('send').description('say TEXT in a room (joining it); prints the message id').argument('<text...>')))
    .option('--room <room>', `the room (default ${DEFAULT_ROOM})`)
    .option('--quiet', 'print nothing when the message is sent')
    .action(async (words: string[], opts) => {
      const { room } = roomOf({ room: opts.room })
      if (room == null) throw new UsageError('chat send goes to a room; for a direct message use: mesh dm NICK TEXT')
      const sent = await ask(async () => await callNode(homeOf(opts), 'chat.send', { room, text: textOf(words) }))
      if (opts.json === true) return printJson(sent)
      if (opts.quiet !== true) process.stdout.write(`sent to ${room}: ${String(sent.id)}\n`)
    })

  withJson(withHome(chat.command('history').description('messages of a room or DM conversation, oldest first').addHelpText('after', CONVERSATION_HELP)))
    .option('--room <room>', `the room, or @NICK for direct messages (default ${DEFAULT_ROOM})`)
    .option('--dm <peer>', 'the direct messages with this peer')
    .option('--limit <n>', 'the last N messages (default 100)', parsePositiveInt('--limit', 100_000))
    .action(async (opts) => {
      const history = await ask(async () => await callNode<HistoryJson>(homeOf(opts), 'chat.history', { ...roomOf(opts), limit: opts.limit }))
      if (opts.json === true) return printJson(history)
      process.stdout.write(historyHeader(history) + '\n' + history.messages.map(m => formatLine(m) + '\n').join(''))
    })

  withJson(withHome(chat.command('tail').description('print new messages and join/leave notices until killed').addHelpText('after', CONVERSATION_HELP)))
    .option('--room <room>', `the room, or @NICK for direct messages (default ${DEFAULT_ROOM})`)
    .option('--dm <peer>', 'the direct messages with this peer')
    .action(async (opts) => {
      const controller = new AbortController()
      const stop = (): void => { controller.abort() }
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
      try {
        const events = streamFromNode<any>(homeOf(opts), 'chat.tail', roomOf(opts), controller.signal)
        await ask(async () => {
          for await (const event of events) {
            if (opts.json === true) printJson(event)
            else process.stdout.write(event.type === 'message' ? formatLine(event) + '\n' : `${clock(Number(event.at))} -- ${sanitize(String(event.text))}\n`)
          }
        })
      } catch (err) {
        if (!controller.signal.aborted) throw err
      } finally {
        process.off('SIGINT', stop)
        process.off('SIGTERM', stop)
      }
    })

  withJson(withHome(program.command('dm').description('direct message to a peer, queued until delivered').argument('<peer>', PEER_NAME_HELP).argument('<text...>')))
    .addHelpText('after', '\nThe conversation is shown by: mesh chat history --dm PEER (or --room @PEER).')
    .action(async (peer: string, words: string[], opts) => {
      const sent = await ask(async () => await callNode(homeOf(opts), 'chat.dm', { to: peer, text: textOf(words) }))
      if (opts.json === true) return printJson(sent)
      process.stdout.write(sent.delivered === true ? `delivered to ${peer}\n` : `queued for ${peer}: it is delivered when ${peer} is back\n`)
    })
}
