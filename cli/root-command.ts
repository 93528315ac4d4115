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
      outputError: (str, write) => { write(str.split('\n')[0] + '\n') }
    })
  program.configureHelp({ sortSubcommands: false })
  return program
}
