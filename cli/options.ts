import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { InvalidArgumentError, type Command } from 'commander'

/**
 * `--home` default: $MESH_HOME, else ~/.mesh. The variable lets a script or a test point
 * every command at one node without repeating --home.
 */
export function defaultHome (): string {
  const fromEnv = process.env.MESH_HOME
  if (fromEnv != null && fromEnv !== '') return resolve(fromEnv)
  return join(homedir(), '.mesh')
}

/** How a peer may be named wherever a command takes one (resolved by the node). */
export const PEER_NAME_HELP = 'a nick, nick#abc123, a peer id or its end (…abc123)'

/** Every command takes --home; most take --json. */
export function withHome (cmd: Command): Command {
  return cmd.option('--home <dir>', 'node home directory (default $MESH_HOME, else ~/.mesh)')
}

export function withJson (cmd: Command): Command {
  return cmd.option('--json', 'print JSON only')
}

export function homeOf (opts: { home?: string }): string {
  return opts.home != null ? resolve(opts.home) : defaultHome()
}

/** A commander argument parser for a positive whole number option such as --workers. */
export function parsePositiveInt (name: string, max = 1_000_000) {
  return (value: string): number => {
    const cleaned = value.replaceAll('_', '')
    if (!/^\d+$/.test(cleaned)) throw new InvalidArgumentError(`${name} must be a whole number, got "${value}"`)
    const n = Number(cleaned)
    if (n < 1 || n > max) throw new InvalidArgumentError(`${name} must be between 1 and ${max}, got ${value}`)
    return n
  }
}
