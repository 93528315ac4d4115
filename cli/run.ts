import { CommanderError } from 'commander'
import { STANDALONE_COMMANDS } from './standalone-commands.ts'
import { terminalSafe } from './terminal-safe.ts'
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from './errors.ts'

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
    // The whole error (stack, cause) for DEBUG=mesh:*; debug is loaded only on this path.
    const { default: createDebug } = await import('debug')
    createDebug('mesh:cli')('%O', err)
    const message = String(err?.message ?? err).split('\n')[0]
    // Error messages often quote a peer's words (a remote method's error): made safe.
    process.stderr.write(`mesh: ${terminalSafe(message)}\n`)
    return err instanceof UsageError ? EXIT_USAGE : EXIT_FAILED
  }
}
