import type { Command } from 'commander'
import { callNode } from '../control-client.ts'
import { homeOf, withHome, withJson } from '../options.ts'
import { printJson, table } from '../output.ts'
import { terminalSafe } from '../terminal-safe.ts'
import { displayPeerId } from '../../node/peers/peer-names.ts'
import { sanitize } from '../shell/format.ts'

interface MemberJson {
  id: string
  nick: string
  state: string
  lastSeenMs: number
  workers: { total: number, free: number }
  load: number
  services: string[]
  addrs: string[]
  roles?: string[]
}

/** `mesh id`, `mesh peers`, `mesh stats`: ask the running node through its control socket. */
export function registerNodeInfoCommands (program: Command): void {
  withJson(withHome(program.command('id').description('this node\'s peer id, nick and addresses')))
    .action(async (opts) => {
      const id = await callNode(homeOf(opts), 'id')
      if (opts.json === true) return printJson(id)
      process.stdout.write(`${id.nick} ${id.id}\n${id.addrs.map((a: string) => `  ${a}\n`).join('')}`)
    })

  withJson(withHome(program.command('peers').description('the member table: every peer and its state')))
    .action(async (opts) => {
      const peers = await callNode<{ self: string, members: MemberJson[] }>(homeOf(opts), 'peers')
      if (opts.json === true) return printJson(peers)
      // A ROLES column only when some node has one (a gateway): where outside clients connect.
      const withRoles = peers.members.some(m => (m.roles ?? []).length > 0)
      const rows = [['NICK', 'ID', 'STATE', 'LAST SEEN', 'WORKERS', 'LOAD', ...(withRoles ? ['ROLES'] : [])]]
      for (const m of peers.members) {
        const roles = withRoles ? [sanitize((m.roles ?? []).join(' ')) || '-'] : []
        rows.push([
          m.id === peers.self ? `${m.nick} (you)` : m.nick,
          displayPeerId(m.id),
          m.state,
          m.id === peers.self ? '-' : `${(m.lastSeenMs / 1000).toFixed(1)}s ago`,
          `${m.workers.free}/${m.workers.total} free`,
          m.load.toFixed(2),
          ...roles
        ])
      }
      process.stdout.write(terminalSafe(table(rows)))
    })

  withJson(withHome(program.command('stats').description('what this node counted: messages, drops, requests, workers')))
    .option('--mesh', 'every live node\'s stats, gathered over rpc')
    .action(async (opts) => {
      const stats = await callNode(homeOf(opts), 'stats', opts.mesh === true ? { mesh: true } : {})
      if (opts.json === true) return printJson(stats)
      if (opts.mesh !== true) {
        process.stdout.write(terminalSafe(statsLines(stats).join('\n')) + '\n')
        return
      }
      const sections = stats.nodes.map((n: any) => statsLines(n).join('\n'))
      for (const u of stats.unreachable) sections.push(`${String(u.nick)} ${String(u.id)}: unreachable (${String(u.name)})`)
      // Other nodes' answers: their nicks and metric names are theirs to choose.
      process.stdout.write(terminalSafe(sections.join('\n\n')) + '\n')
    })
}

/** One node's stats as lines for people: a summary, then every counter. */
function statsLines (stats: any): string[] {
  const lines = [
    `${String(stats.nick)} ${String(stats.id)}, up ${String(stats.uptimeSeconds)}s, ${String(stats.connections)} connection(s)`,
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
