import type { Command } from 'commander'
import { callNode } from '../control-client.ts'
import { homeOf, withHome, withJson } from '../options.ts'
import { plural, printJson } from '../output.ts'
import { terminalSafe } from '../terminal-safe.ts'
import { GONE_LISTED_MS } from '../gone-members.ts'
import { listedMembers, peersTable, type PeersJson } from '../peers-table.ts'
import { meshStatsTable } from '../stats-summary.ts'


/** `mesh id`, `mesh peers`, `mesh stats`: ask the running node through its control socket. */
export function registerNodeInfoCommands (program: Command): void {
  withJson(withHome(program.command('id').description('this node\'s peer id, nick and addresses')))
    .action(async (opts) => {
      const id = await callNode(homeOf(opts), 'id')
      if (opts.json === true) return printJson(id)
      process.stdout.write(`${id.nick} ${id.id}\n${id.addrs.map((a: string) => `  ${a}\n`).join('')}`)
    })

  withJson(withHome(program.command('peers').description('the member table: every peer and its state')))
    .option('--all', `also the members dead or left for more than ${GONE_LISTED_MS / 1000} s (kept until the node forgets them)`)
    .action(async (opts) => {
      const peers = await callNode<PeersJson>(homeOf(opts), 'peers')
      if (opts.json === true) return printJson({ ...peers, members: listedMembers(peers.members, opts.all === true) })
      process.stdout.write(terminalSafe(peersTable(peers, opts.all === true)))
    })

  withJson(withHome(program.command('stats').description('what this node counted: messages, drops, requests, workers')))
    .option('--mesh', 'every live node\'s stats, gathered over rpc: a summary row per node and the totals')
    .option('--verbose', 'with --mesh: every node\'s raw counters after the summary')
    .action(async (opts) => {
      const stats = await callNode(homeOf(opts), 'stats', opts.mesh === true ? { mesh: true } : {})
      if (opts.json === true) return printJson(stats)
      if (opts.mesh !== true) {
        process.stdout.write(terminalSafe(statsLines(stats).join('\n')) + '\n')
        return
      }
      // Other nodes' answers: their nicks and metric names are theirs to choose.
      process.stdout.write(terminalSafe(meshStatsTable(stats.nodes, stats.unreachable)))
      if (opts.verbose !== true) return
      const sections = stats.nodes.map((n: any) => statsLines(n).join('\n'))
      for (const u of stats.unreachable) sections.push(`${String(u.nick)} ${String(u.id)}: unreachable (${String(u.message ?? u.name)})`)
      process.stdout.write('\n' + terminalSafe(sections.join('\n\n')) + '\n')
    })
}

/** One node's stats as lines for people: a summary, then every counter. */
function statsLines (stats: any): string[] {
  const lines = [
    `${String(stats.nick)} ${String(stats.id)}, up ${String(stats.uptimeSeconds)}s, ${plural(stats.connections, 'connection')}`,
    `members: ${Object.entries(stats.members).map(([k, v]) => `${String(v)} ${k}`).join(', ')}`,
    `workers: ${String(stats.workers.free)}/${String(stats.workers.total)} free`
  ]
  for (const [name, values] of Object.entries<Record<string, number>>(stats.metrics)) {
    for (const [labels, value] of Object.entries(values)) {
      lines.push(`  ${name}${labels === 'total' ? '' : `{${labels}}`} ${value}`)
    }
  }
  return lines
}
