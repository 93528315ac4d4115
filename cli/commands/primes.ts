import type { Command } from 'commander'
import { registerPrimesTest } from './primes-test.ts'

/** `mesh primes count|list|test`. */
export function registerPrimesCommands (program: Command): void {
  const primes = program.command('primes').description('count, list and test primes')
  registerPrimesTest(primes)
}
