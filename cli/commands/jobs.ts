import type { Command } from 'commander'
import { callNode } from '../control-client.ts'
import { homeOf, withHome, withJson } from '../options.ts'
import { plural, printJson, table } from '../output.ts'
import { clock } from '../shell/format.ts'
import { terminalSafe } from '../terminal-safe.ts'

/** `mesh jobs`: the jobs this node coordinates, from its journal. */
export function registerJobsCommand (program: Command): void {
  withJson(withHome(program.command('jobs')))
    .description('jobs of this node: id, when, kind, state, progress, result')
    .action(async (opts: { home?: string, json?: boolean }) => {
      const { jobs } = await callNode<{ jobs: Array<Record<string, any>> }>(homeOf(opts), 'jobs.list')
      if (opts.json === true) { printJson({ jobs }); return }
      if (jobs.length === 0) { process.stdout.write('no jobs\n'); return }
      const rows = [['ID', 'STARTED', 'KIND', 'STATE', 'PROGRESS', 'RANGE', 'RESULT']]
      const now = Date.now()
      for (const job of jobs) {
        const outcome = job.result != null ? `${plural(job.result.count as string, 'prime')} in ${job.result.seconds as number} s` : (job.error ?? '')
        rows.push([job.id, startedAt(Date.parse(job.created), now), job.kind, job.state, `${(job.progress * 100).toFixed(1)}%`, `[${job.from as string}, ${job.to as string}]`, outcome])
      }
      // The error of a failed job may quote a peer's words.
      process.stdout.write(terminalSafe(table(rows)))
    })
}

/** 14:03:07 for a job started in the last day, 2026-11-28 14:03 before that (local time). */
function startedAt (ms: number, now: number): string {
  if (now - ms < 24 * 3600_000) return clock(ms)
  const d = new Date(ms)
  const day = [d.getFullYear(), d.getMonth() + 1, d.getDate()].map(n => String(n).padStart(2, '0')).join('-')
  return `${day} ${clock(ms).slice(0, 5)}`
}
