import { InvalidArgumentError, type Command } from 'commander'
import { withJson } from '../options.ts'

/** Nodes the demo starts at most: one nick each. */
export const MAX_DEMO_NODES = 12

/** At least two nodes: one of them is killed. */
function parseNodes (value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN
  if (!(n >= 2 && n <= MAX_DEMO_NODES)) throw new InvalidArgumentError(`--nodes must be a whole number from 2 to ${MAX_DEMO_NODES} (one of them is killed), got "${value}"`)
  return n
}

/** `mesh demo`: a local mesh shown working, a line per step, then kept up until Ctrl-C. The work is in demo-run.ts, loaded when the command runs. */
export function registerDemoCommand (program: Command): void {
  withJson(program.command('demo'))
    .description('start a local mesh of N nodes and show it working: discovery, chat, a distributed count, a node killed')
    .option('--nodes <n>', `nodes to start (2 to ${MAX_DEMO_NODES})`, parseNodes, 4)
    .option('--exit', 'stop the mesh after the last step instead of waiting for Ctrl-C')
    .option('--no-http', 'no web dashboard: the terminal only')
    .action(async (opts: { nodes: number, exit?: boolean, http: boolean, json?: boolean }) => {
      const { runDemo } = await import('./demo-run.ts')
      await runDemo(opts)
    })
}
