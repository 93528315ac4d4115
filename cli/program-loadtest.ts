import type { Command } from 'commander'
import { registerEchoCommand } from './commands/echo.ts'
import { registerLoadTestCommand } from './commands/loadtest.ts'
import { createRootCommand } from './root-command.ts'

/** `mesh echo` and `mesh loadtest` alone. */
export function buildLoadTestProgram (): Command {
  const program = createRootCommand()
  registerEchoCommand(program)
  registerLoadTestCommand(program)
  return program
}
