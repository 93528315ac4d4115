import type { Command } from 'commander'
import { callNode } from '../control-client.ts'
import { homeOf, withHome, withJson } from '../options.ts'
import { printJson, table } from '../output.ts'

/** `mesh jobs`: the jobs this node coordinates, from its journal. */
export function registerJobsCommand (program: Command): void {
  withJson(withHome(program.command('jobs')))
    .description('jobs of this node: id, kind, state, progress')
    .action(async (opts: { home?: string, json?: boolean }) => {
      const { jobs } = await callNode<{ jobs: Array<Record<string, any>> }>(homeOf(opts), 'jobs.list')
      if (opts.json === true) { printJson({ jobs }); return }
      if (jobs.length === 0) { process.stdout.write('no jobs\n'); return }
      const rows = [['ID', 'KIND', 'STATE', 'PROGRESS', 'RANGE', 'RESULT']]
      for (const job of jobs) {
        const outcome = job.result != null ? `${job.result.count as string} primes in ${job.result.seconds as number} s` : (job.error ?? '')
        rows.push([job.id, job.kind, job.state, `${(job.progress * 100).toFixed(1)}%`, `[${job.from as string}, ${job.to as string}]`, outcome])
      }
      process.stdout.write(table(rows))
    })
}
