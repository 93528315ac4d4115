import { CommanderError } from 'commander'
import createDebug from 'debug'
import { STANDALONE_COMMANDS } from './standalone-commands.ts'
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from './errors.ts'

const log = createDebug('mesh:cli')

/**
 * Parses argv and runs the command. Returns the exit code: 0 ok, 1 the work failed,
 * 2 bad arguments. Errors are printed as one line on stderr.
 */
export async function runCli (argv: string[]): Promise<number> {
  // `mesh echo` and `mesh loadtest` skip the node's modules (libp2p and the rest, about 50 MB):
  // an echo server's memory and start-up are then its model's own, and the generator's too.
  const program = STANDALONE_COMMANDS.has(argv[2])
    ? (await import('./program-loadtest.ts')).buildLoadTestProgram()
    : (await import('./program.ts')).buildProgram()
  try {
    await program.parseAsync(argv)
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK
  } catch (err: any) {
    if (err instanceof CommanderError) {
      // Help and version requests end up here too, with exit code 0.
      if (err.exitCode === 0) return EXIT_OK
      // Commander already printed its one-line "error: ..." message.
      return EXIT_USAGE
    }
    log('%O', err)
    const message = String(err?.message ?? err).split('\n')[0]
    process.stderr.write(`mesh: ${message}\n`)
    return err instanceof UsageError ? EXIT_USAGE : EXIT_FAILED
  }
}
