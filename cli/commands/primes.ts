import type { Command } from 'commander'
import { DEFAULT_POOL_SIZE } from '../../node/compute/worker-pool.ts'
import { UsageError } from '../errors.ts'
import { homeOf, parsePositiveInt, withHome, withJson } from '../options.ts'
import { parseBound } from '../parse-bound.ts'
import { chooseMethod, parseMethod } from './count-method.ts'
import { registerPrimesTest } from './primes-test.ts'

const MAX_WORKERS = 1024

/**
 * `mesh primes count|list|test`. The sieve, the progress bar and the temporary node are
 * imported when a command runs, so registering these commands costs nothing.
 */
export function registerPrimesCommands (program: Command): void {
  const primes = program.command('primes').description('count, list and test primes')

  withJson(withHome(primes.command('count <from> <to>')))
    .description('count the primes in [FROM, TO] (bounds below 2^64: 1e9, 1_000_000, 1e13+1e10)')
    .option('--local', 'count on this machine only')
    .option('--verify', 'count every shard on two peers (a third on disagreement); name peers that disagree')
    .option('--bootstrap <multiaddr>', 'with no node in --home: a peer the temporary node joins through, repeatable', (v: string, prev: string[] = []) => [...prev, v])
    .option('--no-mdns', 'with no node in --home: the temporary node does not discover peers by mDNS')
    .option('--workers <n>', `worker threads (default ${DEFAULT_POOL_SIZE}, one per core)`, parsePositiveInt('--workers', MAX_WORKERS))
    .option('--method <method>', 'combinatorial (pi(TO) - pi(FROM - 1), for wide intervals) or sieve; default: the cheaper one')
    .action(async (fromText: string, toText: string, opts: { json?: boolean, workers?: number, local?: boolean, verify?: boolean, bootstrap?: string[], mdns?: boolean, home?: string, method?: string }) => {
      const [from, to] = parseRange(fromText, toText)
      const method = parseMethod(opts.method) ?? chooseMethod(from, to)
      if (opts.local === true && opts.verify === true) throw new UsageError('--verify needs peers: drop --local')
      if (opts.local === true) {
        const { countLocally } = await import('./primes-local.ts')
        await countLocally(from, to, { ...opts, method })
        return
      }
      const { countDistributed } = await import('./primes-distributed.ts')
      await countDistributed(from, to, { home: homeOf(opts), json: opts.json, verify: opts.verify, bootstrap: opts.bootstrap, mdns: opts.mdns, workers: opts.workers, method })
    })

  withHome(primes.command('list <from> <to>'))
    .description('print the primes in [FROM, TO], one per line, in order')
    .action(async (fromText: string, toText: string) => {
      const [from, to] = parseRange(fromText, toText)
      const { listToStdout } = await import('./primes-local.ts')
      await listToStdout(from, to)
    })

  registerPrimesTest(primes)
}

function parseRange (fromText: string, toText: string): [bigint, bigint] {
  const from = parseBound(fromText, 'FROM')
  const to = parseBound(toText, 'TO')
  if (from > to) throw new UsageError(`FROM (${from}) must not be greater than TO (${to})`)
  return [from, to]
}

