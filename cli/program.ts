import type { Command } from 'commander'
import { registerCallCommand } from './commands/call.ts'
import { registerChatCommands } from './commands/chat.ts'
import { registerDemoCommand } from './commands/demo.ts'
import { registerEchoCommand } from './commands/echo.ts'
import { registerJobsCommand } from './commands/jobs.ts'
import { registerLoadTestCommand } from './commands/loadtest.ts'
import { registerNodeInfoCommands } from './commands/node-info.ts'
import { registerPrimesCommands } from './commands/primes.ts'
import { registerSimCommand } from './commands/sim.ts'
import { registerStartCommand } from './commands/start.ts'
import { registerSwarmKeyCommand } from './commands/swarm-key.ts'
import { registerTaskCommands } from './commands/task.ts'
import { createRootCommand } from './root-command.ts'

/** The whole command tree. Each command lives in its own file under cli/commands/. */
export function buildProgram (): Command {
  const program = createRootCommand()
  registerStartCommand(program)
  registerNodeInfoCommands(program)
  registerChatCommands(program)
  registerPrimesCommands(program)
  registerJobsCommand(program)
  registerTaskCommands(program)
  registerCallCommand(program)
  registerSwarmKeyCommand(program)
  registerEchoCommand(program)
  registerLoadTestCommand(program)
  registerDemoCommand(program)
  registerSimCommand(program)
  return program
}
