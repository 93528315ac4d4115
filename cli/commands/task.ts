import type { Command } from 'commander'
import { callNode, NoNodeRunningError } from '../control-client.ts'
import { UsageError } from '../errors.ts'
import { homeOf, parsePositiveInt, PEER_NAME_HELP, withHome, withJson } from '../options.ts'
import { printJson, table } from '../output.ts'
import { displayPeerId } from '../../node/peers/peer-names.ts'
import { CALC_OPS as CALC_OPERATIONS } from '../../node/tasks/calc-service.ts'
import { TEXT_OPS as TEXT_OPERATIONS } from '../../node/tasks/text-service.ts'
import { terminalSafe } from '../terminal-safe.ts'
import { answeredBy, callThroughNode, type CallReply } from './call.ts'

// The operations the services implement: one list, so the CLI never offers one they lack.
const CALC_OPS: readonly string[] = CALC_OPERATIONS
const TEXT_OPS: readonly string[] = TEXT_OPERATIONS
/** Decimal, optionally signed, with `_` between digit groups and an exponent: -3, 2.5, 1_000, 1e9. */
const NUMBER = /^[+-]?(?:\d+(?:_\d+)*)?(?:\.\d+)?(?:[eE][+-]?\d+)?$/

/** A decimal number as people type them (-3, 2.5, 1_000, 1e9); UsageError for anything else. */
export function parseNumber (text: string): number {
  if (!NUMBER.test(text) || !/\d/.test(text.replace(/[eE].*$/, ''))) throw new UsageError(`"${text}" is not a number`)
  const n = Number(text.replaceAll('_', ''))
  if (!Number.isFinite(n)) throw new UsageError(`"${text}" is out of range`)
  return n
}

interface TaskOpts { home?: string, json?: boolean, peer?: string, timeout?: number }

async function runTask (kind: string, op: string, input: unknown, opts: TaskOpts): Promise<void> {
  const reply = await callThroughNode<CallReply & { op: string }>(homeOf(opts), 'tasks.run', {
    kind,
    op,
    input,
    ...(opts.peer != null ? { peer: opts.peer } : {}),
    ...(opts.timeout != null ? { deadlineMs: opts.timeout } : {})
  })
  if (opts.json === true) return printJson({ op, result: reply.result, peer: reply.peer })
  // A peer's answer, made safe for the terminal (`--json` keeps it exact).
  process.stdout.write(terminalSafe(typeof reply.result === 'string' ? reply.result : JSON.stringify(reply.result)) + '\n')
  process.stderr.write(terminalSafe(answeredBy(reply)) + '\n')
}

function taskCommand (parent: Command, spec: string, description: string): Command {
  const cmd = parent.command(spec).description(description)
    .option('--peer <peer>', `run it on this peer instead of the one the balancer picks: ${PEER_NAME_HELP}`)
    .option('--timeout <ms>', 'give up after this many ms, retries included', parsePositiveInt('--timeout', 3_600_000))
    // Negative numbers and text that starts with a dash are operands, not options.
    .allowUnknownOption()
  return withJson(withHome(cmd))
}

/** `mesh task calc|text|results`: small tasks on whichever peer the balancer picks, or the one named. */
export function registerTaskCommands (program: Command): void {
  const task = program.command('task').description('run calc and text tasks on the mesh; list their results')

  taskCommand(task, 'calc <op> [numbers...]', `${CALC_OPS.join('|')} of NUMBERS`)
    .action(async (op: string, numbers: string[], opts: TaskOpts) => {
      if (!CALC_OPS.includes(op)) throw new UsageError(`calc operations are ${CALC_OPS.join(', ')}; got "${op}"`)
      // Caught here, before anything is sent: an empty sum is not an answer anyone asked for.
      if (numbers.length === 0) throw new UsageError(`calc ${op} needs at least one number, e.g. mesh task calc ${op} 1 2 3`)
      await runTask('calc', op, numbers.map(parseNumber), opts)
    })

  taskCommand(task, 'text <op> [text...]', `${TEXT_OPS.join('|')} of TEXT (words joined by one space)`)
    .action(async (op: string, words: string[], opts: TaskOpts) => {
      if (!TEXT_OPS.includes(op)) throw new UsageError(`text operations are ${TEXT_OPS.join(', ')}; got "${op}"`)
      if (words.join('').trim() === '') throw new UsageError(`text ${op} needs some text, e.g. mesh task text ${op} hello world`)
      await runTask('text', op, words.join(' '), opts)
    })

  const results = task.command('results').description('results of the tasks submitted from this home, newest first')
    .option('--limit <n>', 'how many (default 50)', parsePositiveInt('--limit', 1000))
  withJson(withHome(results))
    .action(async (opts: { home?: string, json?: boolean, limit?: number }) => {
      const home = homeOf(opts)
      const reply = await callNode<{ results: any[] }>(home, 'tasks.results', opts.limit != null ? { limit: opts.limit } : {})
        .catch(async (err: Error) => {
          if (!(err instanceof NoNodeRunningError)) throw err
          return { results: await storedTaskResults(home, opts.limit) }
        })
      if (opts.json === true) return printJson(reply)
      const rows = [['WHEN', 'TASK', 'INPUT', 'RESULT', 'PEER']]
      for (const r of reply.results) {
        const input = JSON.stringify(r.input)
        rows.push([
          new Date(r.at).toISOString().slice(11, 19),
          `${String(r.kind)} ${String(r.op)}`,
          input.length > 40 ? `${input.slice(0, 39)}…` : input,
          r.ok === true ? JSON.stringify(r.result) : `failed: ${String(r.error?.message ?? r.error?.name)}`,
          r.peer != null ? `${String(r.nick ?? '?')} ${displayPeerId(r.peer)}` : '-'
        ])
      }
      // Inputs, results and errors came from the network: made safe for the terminal.
      process.stdout.write(reply.results.length === 0 ? 'no task results yet\n' : terminalSafe(table(rows)))
    })
}

/**
 * The results are in the home's database: with no node running they are read from there,
 * so a script can look at them after the node stopped.
 */
async function storedTaskResults (home: string, limit: number | undefined): Promise<unknown[]> {
  const { existsSync } = await import('node:fs')
  const { join } = await import('node:path')
  const { DATABASE_FILE, MeshDatabase } = await import('../../node/store/database.ts')
  if (!existsSync(join(home, DATABASE_FILE))) return []
  const { DEFAULT_RESULTS_LIMIT, TaskStore } = await import('../../node/tasks/task-store.ts')
  const db = new MeshDatabase(home)
  try {
    return new TaskStore(db).list(limit ?? DEFAULT_RESULTS_LIMIT)
  } finally {
    db.close()
  }
}
