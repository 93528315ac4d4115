import type { JobRow } from '../compute/scheduler/job-journal.ts'
import type { JobProgress, JobReport } from '../compute/scheduler/types.ts'

/** Bigints as decimal strings: what crosses the control socket as JSON. */
export function reportView (report: JobReport, method?: string): Record<string, unknown> {
  return {
    ...(method != null ? { method } : {}),
    from: report.from.toString(),
    to: report.to.toString(),
    count: report.count.toString(),
    sum: report.sum.toString(),
    first: report.first?.toString() ?? null,
    last: report.last?.toString() ?? null,
    seconds: Math.round(report.elapsedMs) / 1000,
    shards: report.shards,
    peers: report.peers.map(p => ({ id: p.id, shards: p.shards, seconds: Math.round(p.seconds * 1000) / 1000 })),
    retries: report.retries,
    reassigned: report.reassigned,
    backups: report.backups,
    duplicatesDropped: report.duplicatesDropped,
    liars: report.liars
  }
}

export function progressView (progress: JobProgress): Record<string, unknown> {
  return {
    ...progress,
    peers: progress.peers.map(p => ({ id: p.id, shards: p.shards, seconds: Math.round(p.seconds * 1000) / 1000 }))
  }
}

/** A job as `mesh jobs --json` shows it. */
export function jobView (job: JobRow, live?: JobProgress): Record<string, unknown> {
  return {
    id: job.id,
    kind: job.kind,
    from: job.from.toString(),
    to: job.to.toString(),
    verify: job.verify,
    state: job.state,
    progress: live?.fraction ?? job.fraction,
    shardsDone: live?.doneShards ?? job.doneShards,
    shardsCut: live?.cutShards ?? job.cutShards,
    created: new Date(job.created).toISOString(),
    finished: job.finished != null ? new Date(job.finished).toISOString() : null,
    result: job.result != null ? JSON.parse(job.result) : null,
    error: job.error
  }
}
