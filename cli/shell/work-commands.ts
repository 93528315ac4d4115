import { resolvePeerName, shortPeerId } from '../../node/peers/peer-names.ts'
import { CLI_DEFAULT_DEADLINE_MS } from '../../node/rpc/rpc-control.ts'
import type { RpcCallOptions } from '../../node/rpc/rpc-types.ts'
import { CALC_OPS as CALC_OPERATIONS } from '../../node/tasks/calc-service.ts'
import { TEXT_OPS as TEXT_OPERATIONS } from '../../node/tasks/text-service.ts'
import { parseNumber } from '../commands/task.ts'
import { parseBound } from '../parse-bound.ts'
import { ShellUsageError, type ShellCommands, type ShellContext } from './shell-commands.ts'
import { countSentence, shardsDoneLine, type PeerLookup, type PeerShare } from '../job-progress.ts'
import { plural } from '../output.ts'
import { chooseMethod } from '../commands/count-method.ts'
import { sanitize } from './format.ts'

const CALC_OPS: readonly string[] = CALC_OPERATIONS
const TEXT_OPS: readonly string[] = TEXT_OPERATIONS

/** A task run from this shell and what came of it, for /results. */
interface SessionResult {
  at: Date
  task: string
  outcome: string
}

/**
 * `@PEER` as the first word of /calc or /text names the worker, as in `/calc @bob sum 1 2 3`.
 * First, not last: the text of /text may end in any word, an `@word` included, but an
 * operation never starts with `@`.
 */
function splitWorker (args: string): { worker?: string, rest: string } {
  const match = /^@(\S+)\s*(.*)$/s.exec(args.trim())
  return match == null ? { rest: args.trim() } : { worker: match[1], rest: match[2] }
}

/**
 * The pooled-CPU commands of the shell: /workers, /calc, /text, /primes, /results, /stats.
 * They call the node's services in-process, and tasks go through the node's task runner, so
 * they are balanced, retried and recorded (`mesh task results`) exactly like tasks sent
 * from another terminal.
 */
export function workCommands (table: ShellCommands): void {
  const results: SessionResult[] = []

  const callOptions = (ctx: ShellContext, worker: string | undefined): RpcCallOptions => {
    const opts: RpcCallOptions = { deadlineMs: CLI_DEFAULT_DEADLINE_MS }
    if (worker != null) {
      // The same names as everywhere else; an unknown or ambiguous one stops here, unrun and unrecorded.
      const members = [ctx.node.membership.selfMember(), ...ctx.node.membership.members()]
      opts.peer = resolvePeerName(worker, members).id
    }
    return opts
  }

  const runTask = async (ctx: ShellContext, kind: 'calc' | 'text', op: string, input: unknown, shown: string, opts: RpcCallOptions): Promise<void> => {
    const task = `${kind} ${op} ${shown}`
    try {
      const reply = await ctx.node.tasks.run(kind, op, input, opts)
      const value = typeof reply.result === 'string' ? reply.result : JSON.stringify(reply.result)
      const outcome = `${value} (from ${reply.nick ?? shortPeerId(reply.peer)})`
      results.push({ at: new Date(), task, outcome })
      ctx.print(`-- ${task} = ${outcome}`)
    } catch (err: any) {
      const outcome = `failed: ${String(err?.message ?? err)}`
      results.push({ at: new Date(), task, outcome })
      ctx.print(`-- ${task} ${outcome}`)
    }
  }

  table.register({
    name: 'workers',
    args: '',
    help: 'peers with worker slots: free/total and load',
    run: (_args, ctx) => {
      const members = [ctx.node.membership.selfMember(), ...ctx.node.membership.members().filter(m => m.state === 'alive')]
      for (const m of members) {
        const who = m.id === ctx.node.peerId ? `${m.nick} (you)` : ctx.node.chat.peers.label(m.id, m.nick)
        ctx.print(`  ${who.padEnd(20)} ${m.workers.free}/${m.workers.total} free  load ${m.load.toFixed(2)}`)
      }
    }
  })
  table.register({
    name: 'calc',
    args: '[@PEER] OP NUMBERS',
    help: `${CALC_OPS.join('|')} of the numbers, on PEER, else where the balancer picks`,
    run: async (args, ctx) => {
      const { worker, rest } = splitWorker(args)
      const [op, ...numbers] = rest.split(/\s+/)
      if (!CALC_OPS.includes(op)) throw new ShellUsageError(`calc operations are ${CALC_OPS.join(', ')}`)
      if (numbers.length === 0) throw new ShellUsageError(`/calc ${op} needs at least one number`)
      let parsed: number[]
      try { parsed = numbers.map(parseNumber) } catch (err: any) { throw new ShellUsageError(err.message) }
      await runTask(ctx, 'calc', op, parsed, numbers.join(' '), callOptions(ctx, worker))
    }
  })
  table.register({
    name: 'text',
    args: '[@PEER] OP TEXT',
    help: `${TEXT_OPS.join('|')} of the text, on PEER, else where the balancer picks`,
    run: async (args, ctx) => {
      const { worker, rest } = splitWorker(args)
      const match = /^(\S+)\s+(.+)$/s.exec(rest)
      if (match == null || !TEXT_OPS.includes(match[1])) throw new ShellUsageError(`text operations are ${TEXT_OPS.join(', ')}, then the text`)
      await runTask(ctx, 'text', match[1], match[2], JSON.stringify(match[2]), callOptions(ctx, worker))
    }
  })
  table.register({
    name: 'primes',
    args: 'count|list FROM TO, or test N',
    help: 'count the primes in [FROM, TO] across the mesh (1e12, 1e12+1e10, …), list the first ones, test N',
    run: async (args, ctx) => {
      const [sub, ...rest] = args.trim().split(/\s+/)
      if (sub === 'test') return await primesTest(rest, ctx)
      if ((sub !== 'count' && sub !== 'list') || rest.length !== 2) throw new ShellUsageError('/primes does count FROM TO, list FROM TO and test N')
      let from: bigint
      let to: bigint
      try {
        from = parseBound(rest[0], 'FROM')
        to = parseBound(rest[1], 'TO')
      } catch (err: any) {
        throw new ShellUsageError(err.message)
      }
      if (from > to) throw new ShellUsageError('FROM must not be greater than TO')
      if (sub === 'list') return await primesList(from, to, ctx)
      const match = ['', rest[0], rest[1]]
      const task = `primes count ${match[1]} ${match[2]}`
      ctx.print(`-- ${task}: counting across the mesh…`)
      // Never aborted: quitting the shell stops the node, whose journal keeps the job
      // running, and the next start resumes it.
      const signal = new AbortController().signal
      const membership = ctx.node.membership
      const lookup: PeerLookup = id => id === ctx.node.peerId ? membership.selfMember() : membership.member(id)
      const progress = new ShellJobProgress(lookup)
      try {
        for await (const event of ctx.node.jobs.count(from, to, false, signal, chooseMethod(from, to)) as AsyncIterable<any>) {
          if (event.type === 'progress') {
            const line = progress.lineFor(event)
            if (line != null) ctx.print(`-- ${task}: ${line}`)
          }
          if (event.type !== 'done') continue
          const outcome = countSentence(event.report, { verify: false, lookup })
          results.push({ at: new Date(), task, outcome })
          ctx.print(`-- ${task} = ${outcome}`)
          return
        }
        throw new Error('the job ended without a result')
      } catch (err: any) {
        const outcome = `failed: ${String(err?.message ?? err)}`
        results.push({ at: new Date(), task, outcome })
        ctx.print(`-- ${task} ${outcome}`)
      }
    }
  })
  table.register({
    name: 'results',
    args: '',
    help: 'the results of the tasks run from this shell',
    run: (_args, ctx) => {
      if (results.length === 0) ctx.print('-- no tasks run from this shell yet: try /calc sum 1 2 3')
      for (const r of results) ctx.print(`  ${r.at.toISOString().slice(11, 19)} ${r.task} = ${r.outcome}`)
    }
  })
  table.register({
    name: 'stats',
    args: '',
    help: 'what this node counted (mesh stats for more)',
    run: async (_args, ctx) => {
      // The node's own `node.stats` rpc method, run in-process: what `mesh stats` shows.
      const { result: stats } = await ctx.node.rpc.call<any>('node', 'stats', {}, { peer: ctx.node.peerId })
      ctx.print(`  up ${String(stats.uptimeSeconds)}s, ${plural(stats.connections, 'connection')}, workers ${String(stats.workers.free)}/${String(stats.workers.total)} free`)
      ctx.print(`  members: ${Object.entries(stats.members).map(([k, v]) => `${String(v)} ${k}`).join(', ')}`)
    }
  })
}

/**
 * Progress of a count in the shell, as lines above the prompt: one each time another tenth
 * is done, and one when a peer working on it dies, never more than one a second.
 */
class ShellJobProgress {
  private readonly lookup: PeerLookup
  private lastTenth = 0
  private lastAt = 0
  private readonly gone = new Set<string>()

  constructor (lookup: PeerLookup) {
    this.lookup = lookup
  }

  lineFor (event: { fraction: number, etaMs: number | null, peers: PeerShare[] }): string | null {
    const tenth = Math.floor(event.fraction * 10)
    const newlyGone = event.peers.filter(p => { const s = this.lookup(p.id)?.state; return (s === 'dead' || s === 'left') && !this.gone.has(p.id) })
    for (const p of newlyGone) this.gone.add(p.id)
    const now = Date.now()
    if ((tenth <= this.lastTenth || tenth >= 10) && newlyGone.length === 0) return null
    if (newlyGone.length === 0 && now - this.lastAt < 1000) return null
    this.lastTenth = Math.max(this.lastTenth, tenth)
    this.lastAt = now
    const eta = event.etaMs != null ? `, about ${Math.ceil(event.etaMs / 1000)} s to go` : ''
    return `${Math.floor(event.fraction * 100)}% done${eta} · ${shardsDoneLine(event.peers, this.lookup)}`
  }
}

/** /primes list shows this many at most; `mesh primes list` streams any number. */
const SHELL_LIST_LIMIT = 50

async function primesList (from: bigint, to: bigint, ctx: ShellContext): Promise<void> {
  const { result } = await ctx.node.rpc.call<{ primes: string[], next: string | null }>('primes', 'range',
    { from: from.toString(), to: to.toString(), limit: SHELL_LIST_LIMIT }, { deadlineMs: CLI_DEFAULT_DEADLINE_MS })
  const more = result.next != null ? ` … (the first ${SHELL_LIST_LIMIT}; mesh primes list ${from} ${to} prints them all)` : ''
  ctx.print(result.primes.length === 0 ? `-- no primes in [${from}, ${to}]` : `-- primes in [${from}, ${to}]: ${result.primes.join(' ')}${more}`)
}

async function primesTest (args: string[], ctx: ShellContext): Promise<void> {
  const n = (args[0] ?? '').replaceAll('_', '')
  if (args.length !== 1 || !/^\d{1,300}$/.test(n)) throw new ShellUsageError('/primes test takes one whole number of at most 300 digits')
  const { result, peer } = await ctx.node.rpc.call<{ is_prime: boolean }>('primes', 'test', { n: BigInt(n).toString() }, { deadlineMs: CLI_DEFAULT_DEADLINE_MS })
  const by = peer === ctx.node.peerId ? ctx.node.config.nick : ctx.node.membership.member(peer)?.nick ?? shortPeerId(peer)
  ctx.print(`-- ${BigInt(n)} ${result.is_prime ? 'is prime' : 'is not prime'} (from ${sanitize(by)})`)
}
