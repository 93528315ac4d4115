import { streamFromNode } from '../cli/control-client.ts'
import type { MeshProcess } from '../test/utils/mesh-process.ts'

export interface BenchReport {
  count: string
  seconds: number
  shards: number
  retries: number
  reassigned: number
  backups: number
  peers: Array<{ id: string, shards: number, seconds: number }>
}

/**
 * Runs one job on `node` through its control socket, as `mesh primes count` does; calls
 * `onProgress(fraction)` as it goes (fault benchmarks hurt a node at a given fraction).
 */
export async function runJob (node: MeshProcess, from: bigint, to: bigint, onProgress?: (fraction: number, event: { reassigned: number, retries: number, backups: number }) => void): Promise<BenchReport> {
  for await (const event of streamFromNode(node.home, 'jobs.start', { from: from.toString(), to: to.toString() })) {
    if (event.type === 'progress') onProgress?.(event.fraction, event)
    if (event.type === 'done') return event.report
  }
  throw new Error('the job stream ended without a result')
}
