import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { callNode } from '../../cli/control-client.ts'
import { MeshProcess, waitUntil } from './mesh-process.ts'
import { runMesh, type MeshRun } from './run-mesh.ts'
import { testNodePrefix, type TestNodeOptions } from './test-node.ts'

/** Loopback only, one worker each, so three nodes fit two cores. */
export const JOB_NODE_ARGS = ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--workers', '1']

/** The oracle: primesieve's count of [from, to]. */
export function primesieveCount (from: bigint, to: bigint): bigint {
  return BigInt(execFileSync('primesieve', [from.toString(), to.toString(), '-c1', '-q']).toString().trim())
}

/**
 * A coordinator and workers on loopback; a name in `testServices` runs as a test node with
 * those services (e.g. `{ liar: { lie: true } }`); `commandPrefix` wraps the other nodes'
 * command by their index (e.g. `taskset` to pin one to a core).
 */
export async function startJobMesh (names: string[], testServices: Record<string, TestNodeOptions> = {},
  commandPrefix?: (index: number) => string[] | undefined): Promise<MeshProcess[]> {
  const prefix = (name: string, i: number): string[] | undefined => testServices[name] != null ? testNodePrefix(testServices[name]) : commandPrefix?.(i)
  const first = await MeshProcess.start({ name: names[0], args: JOB_NODE_ARGS, prefix: prefix(names[0], 0) })
  const rest = await Promise.all(names.slice(1).map(async (name, i) =>
    await MeshProcess.start({ name, args: JOB_NODE_ARGS, bootstrap: [first.bootstrapAddr], prefix: prefix(name, i + 1) })))
  const all = [first, ...rest]
  // Every node sees every other one alive and serving primes.count before a job starts.
  await waitUntil('a full mesh serving primes.count', async () => {
    const views = await Promise.all(all.map(async n => await n.peers()))
    return views.every(v => v.members.filter(m => m.id !== v.self && m.state === 'alive' && m.services.includes('primes.count')).length === all.length - 1)
  }, 20_000)
  return all
}

export interface JobJson { id: string, state: string, progress: number, result: Record<string, any> | null, error: string | null }

export async function jobsOf (node: MeshProcess): Promise<JobJson[]> {
  return (await callNode<{ jobs: JobJson[] }>(node.home, 'jobs.list')).jobs
}

/** Starts `mesh primes count` against the node and resolves when it exits. */
export function countOn (node: MeshProcess, from: bigint, to: bigint, extra: string[] = []): Promise<MeshRun> {
  return runMesh(['primes', 'count', from.toString(), to.toString(), '--home', node.home, '--json', ...extra], { timeoutMs: 120_000 })
}

/** Waits until the node's running job has done at least `fraction` of its range. */
export async function waitForProgress (node: MeshProcess, fraction: number): Promise<void> {
  await waitUntil(`job progress ${fraction}`, async () => (await jobsOf(node)).some(j => j.state === 'running' && j.progress >= fraction), 60_000, 100)
}

export interface ShardRow { index: number, from: bigint, to: bigint, state: string, count: bigint | null, peer: string | null, attempts: number, seconds: number | null }

/** The job journal, read straight from <home>/mesh.db (the node may still have it open: WAL). */
export function journalShards (home: string, job: string): ShardRow[] {
  const db = new DatabaseSync(join(home, 'mesh.db'), { readOnly: true })
  try {
    const rows = db.prepare('SELECT * FROM shards WHERE job = ? ORDER BY "index"').all(job) as any[]
    return rows.map(r => ({
      index: Number(r.index), from: BigInt(r.from), to: BigInt(r.to), state: r.state,
      count: r.count == null ? null : BigInt(r.count), peer: r.peer, attempts: Number(r.attempts), seconds: r.seconds
    }))
  } finally {
    db.close()
  }
}

/** Every shard done, once, covering [from, to] exactly, adding up to `expected`. */
export function checkJournal (rows: ShardRow[], from: bigint, to: bigint, expected: bigint): void {
  const problems: string[] = []
  if (rows.length === 0) problems.push('no shards')
  if (rows[0]?.from !== from) problems.push(`first shard starts at ${rows[0]?.from}`)
  if (rows.at(-1)?.to !== to) problems.push(`last shard ends at ${rows.at(-1)?.to}`)
  rows.forEach((r, i) => {
    if (r.index !== i) problems.push(`shard index ${r.index} at position ${i}`)
    if (r.state !== 'done') problems.push(`shard ${r.index} is ${r.state}`)
    if (i > 0 && r.from !== rows[i - 1].to + 1n) problems.push(`gap or overlap before shard ${r.index}`)
  })
  const total = rows.reduce((n, r) => n + (r.count ?? 0n), 0n)
  if (total !== expected) problems.push(`journal adds up to ${total}, not ${expected}`)
  if (problems.length > 0) throw new Error(`journal check failed: ${problems.join('; ')}`)
}
