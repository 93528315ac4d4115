import type { Command } from 'commander'
import { UsageError } from '../errors.ts'
import { parsePositiveInt, withJson } from '../options.ts'

/** Nodes the demo starts at most: one nick each. */
export const MAX_DEMO_NODES = 12

/** `mesh demo`: a local mesh shown working, a line per step, then kept up until Ctrl-C. The work is in demo-run.ts, loaded when the command runs. */
export function registerDemoCommand (program: Command): void {
  withJson(program.command('demo'))
    .description('start a local mesh of N nodes and show it working: discovery, chat, a distributed count, a node killed')
    .option('--nodes <n>', `nodes to start (2 to ${MAX_DEMO_NODES})`, parsePositiveInt('--nodes', MAX_DEMO_NODES), 4)
    .option('--exit', 'stop the mesh after the last step instead of waiting for Ctrl-C')
    .option('--no-http', 'no web dashboard: the terminal only')
    .action(async (opts: { nodes: number, exit?: boolean, http: boolean, json?: boolean }) => {
      if (opts.nodes < 2) throw new UsageError('--nodes must be at least 2: one of them is killed')
      const { runDemo } = await import('./demo-run.ts')
      await runDemo(opts)
    })
}
