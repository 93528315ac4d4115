import { Command } from 'commander'

/** `mesh` with its options and error output, before any command is added. */
export function createRootCommand (): Command {
  const program = new Command('mesh')
    .description('a peer-to-peer mesh: gossip membership, chat without a server, pooled CPUs')
    .version('0.1.0')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      // One line on stderr for misuse; the full help stays one `--help` away.
      outputError: (str, write) => { write(`mesh: ${usageLine(str)}\n`) }
    })
  program.configureHelp({ sortSubcommands: false })
  return program
}

/**
 * Commander's error in the words every other error uses: its "error: " prefix gives way
 * to the one prefix "mesh: ", and when an option's own check explains the problem, that
 * explanation alone ("--limit must be a whole number, got "abc"") rather than commander's
 * sentence in front of it, which says the same thing once more.
 */
export function usageLine (commanderOutput: string): string {
  const first = commanderOutput.split('\n')[0].replace(/^error: /, '')
  const explained = /^(?:option|command-argument value) '[^']*' (?:argument '.*' )?is invalid\. (.+)$/s.exec(first)
  return explained != null ? explained[1] : first
}
