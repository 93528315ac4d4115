import type { Command } from 'commander'

/** `mesh primes test N`: primality of a number of any size. */
export function registerPrimesTest (primes: Command): void {
  primes.command('test <n>').description('is N prime? (any size)')
}
