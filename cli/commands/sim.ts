import { InvalidArgumentError, Option, type Command } from 'commander'
import { parsePositiveInt, withJson } from '../options.ts'

export interface SimOptions {
  nodes: number
  seed: number
  cycles: number
  heartbeat?: number
  tier?: 'netns' | 'process'
  plan?: string
  out?: string
  json?: boolean
}

const DEFAULT_NODES = 6
const DEFAULT_SEED = 1
const DEFAULT_CYCLES = 2

/** `mesh sim`: network-partition simulations with verdicts. */
export function registerSimCommand (program: Command): void {
  withJson(program.command('sim'))
    .description('network-partition simulations with verdicts: mesh sim list, mesh sim SCENARIO')
    .argument('[scenario]', 'a scenario from `mesh sim list`; `list` shows them, `clean` removes what killed runs left')
    .option('--nodes <n>', `nodes to start (default ${DEFAULT_NODES})`, parsePositiveInt('--nodes', 1000), DEFAULT_NODES)
    .option('--seed <s>', `the seed the plan is drawn from (default ${DEFAULT_SEED})`, parseSeed, DEFAULT_SEED)
    .option('--cycles <n>', `fault windows, one after another (default ${DEFAULT_CYCLES})`, parsePositiveInt('--cycles', 1000), DEFAULT_CYCLES)
    .addOption(new Option('--heartbeat <ms>', 'the nodes\' heartbeat interval (default 1000; in the process tier above 20 nodes, 1000 × (nodes/20)^1.5: time dilation)').argParser(parsePositiveInt('--heartbeat', 60_000)))
    .addOption(new Option('--tier <tier>', 'netns: real processes in network namespaces (root); process: nodes in one process').choices(['netns', 'process']))
    .option('--plan <file>', 'run a plan written by hand (or a report\'s plan.json) instead of drawing one')
    .option('--out <dir>', 'the report folder (default ./mesh-sim/<scenario>-<seed>-<time>/, with a latest link)')
    .action(async (scenario: string | undefined, opts: SimOptions) => {
      // The runner, checkers and plots load only when a simulation command runs.
      const sim = await import('./sim-run.ts')
      if (scenario === 'list') { sim.listScenarios(opts.json === true); return }
      if (scenario === 'clean') { await sim.clean(opts.json === true); return }
      await sim.runSimulation(scenario, opts)
    })
}


function parseSeed (value: string): number {
  const cleaned = value.replaceAll('_', '')
  if (!/^\d+$/.test(cleaned) || Number(cleaned) > 0xffffffff) throw new InvalidArgumentError(`--seed must be a whole number from 0 to ${0xffffffff}, got "${value}"`)
  return Number(cleaned)
}
