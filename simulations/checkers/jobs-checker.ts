import { faultWindows } from '../history/fault-windows.ts'
import { operations, type HistoryEvent } from '../history/history.ts'
import type { CheckResult } from './check-result.ts'

/**
 * Distributed prime counts: each job finishes with the count known in advance, and its
 * shards were each accepted once (the per-peer shard counts add up to the job's). A job
 * that failed or never answered is lost work: invalid.
 */
export function checkJobs (history: readonly HistoryEvent[]): CheckResult {
  const jobs = operations(history, 'jobs.count')
  if (jobs.length === 0) return { valid: 'unknown', summary: 'no job ran' }
  const problems: string[] = []
  const results: Array<Record<string, unknown>> = []
  const windows = faultWindows(history)
  let cutShort = 0
  for (const job of jobs) {
    const { from, to, expected } = job.invoke.value ?? {}
    const label = `job on n${job.node} [${from}, ${to}]`
    const done = job.done
    const end = done?.t ?? Number.POSITIVE_INFINITY
    // A coordinator killed, paused or leaving under its own job ends it (it resumes from its
    // journal on restart): that proves nothing about the count either way.
    const coordinatorStopped = windows.some(w => (w.kind === 'pause' || w.kind === 'kill' || w.kind === 'leave') &&
      'nodes' in w.fault && w.fault.nodes.includes(job.node) && w.start <= end && w.end >= job.invoke.t)
    if (done?.type !== 'ok' && coordinatorStopped) { cutShort++; continue }
    if (done == null || done.type === 'info') { problems.push(`${label} never finished${done?.error != null ? `: ${done.error}` : ''}`); continue }
    if (done.type === 'fail') { problems.push(`${label} failed: ${done.error ?? 'no reason given'}`); continue }
    const report = done.value ?? {}
    const shardsByPeer = Array.isArray(report.peers) ? report.peers.reduce((sum: number, p: any) => sum + Number(p.shards ?? 0), 0) : undefined
    results.push({ node: job.node, from, to, expected, count: report.count, shards: report.shards, shardsByPeer, retries: report.retries, reassigned: report.reassigned, duplicatesDropped: report.duplicatesDropped, ms: Math.round(done.t - job.invoke.t) })
    if (String(report.count) !== String(expected)) problems.push(`${label} counted ${String(report.count)}, expected ${String(expected)}`)
    if (shardsByPeer !== report.shards) problems.push(`${label}: the peers' accepted shards add up to ${String(shardsByPeer)}, the job has ${String(report.shards)}`)
  }
  return {
    valid: problems.length > 0 ? false : results.length === 0 ? 'unknown' : true,
    summary: problems.length === 0 ? `${jobs.length - cutShort} jobs, every count exact${cutShort > 0 ? `; ${cutShort} ended with their coordinator` : ''}` : problems[0],
    problems,
    cutShort,
    jobs: results
  }
}
