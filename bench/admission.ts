/**
 * Admission benchmark: how much later a newcomer that bootstraps through a third node is
 * listed than one that connects directly.
 *
 *   npm run bench:admission -- [--rounds 15] [--json]
 *
 * Three real nodes in this process on loopback TCP (mDNS off): alice, bob bootstrapped from
 * alice, then `--rounds` times a fresh carol (new identity) bootstrapped from bob only. Bob
 * lists carol the moment her connection brings her first heartbeat; alice hears of her only
 * through bob's gossip, so she lists carol once a connection between them opens (a member is
 * admitted only when seen connected). The figure is alice's listing minus bob's, from each
 * node's own `member:join` event (the table `mesh peers` reads), per round; carol then leaves.
 * The same script run on a checkout without admission gives the figure before it.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createMeshNode, type MeshNode } from '../node/mesh-node.ts'
import type { MemberTransition } from '../node/membership/member.ts'
import { waitUntil } from '../test/utils/wait.ts'

const { values: opts } = parseArgs({ options: { rounds: { type: 'string', default: '15' }, json: { type: 'boolean', default: false } } })
const rounds = Number(opts.rounds)
if (!Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write('bench:admission: --rounds must be a whole number of at least 1\n')
  process.exit(2)
}

const homes: string[] = []
async function node (nick: string, bootstrap: string[]): Promise<MeshNode> {
  const home = await mkdtemp(join(tmpdir(), `mesh-bench-admission-${nick}-`))
  homes.push(home)
  return await createMeshNode({ home, nick, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap, mdns: false })
}

/** When each member joined `observer`'s table, by id, on this process's clock. */
function joins (observer: MeshNode): Map<string, number> {
  const at = new Map<string, number>()
  observer.membership.on('member:join', (t: MemberTransition) => { if (!at.has(t.member.id)) at.set(t.member.id, performance.now()) })
  return at
}

function quantile (sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}

const alive = (observer: MeshNode, id: string): boolean => observer.membership.member(id)?.state === 'alive'
const nodes: MeshNode[] = []
const gaps: number[] = []
const sinceStart: number[] = []
try {
  const alice = await node('alice', [])
  nodes.push(alice)
  const bob = await node('bob', [alice.addrs()[0]])
  nodes.push(bob)
  await waitUntil('alice and bob to list each other', () => alive(alice, bob.peerId) && alive(bob, alice.peerId), 20_000)
  const onAlice = joins(alice)
  const onBob = joins(bob)
  for (let round = 1; round <= rounds; round++) {
    const started = performance.now()
    const carol = await node(`carol${round}`, [bob.addrs()[0]])
    try {
      await waitUntil(`round ${round}: alice and bob to list carol`, () => onAlice.has(carol.peerId) && onBob.has(carol.peerId), 20_000, 5)
      gaps.push(onAlice.get(carol.peerId)! - onBob.get(carol.peerId)!)
      sinceStart.push(onAlice.get(carol.peerId)! - started)
      process.stderr.write(`round ${round}: alice listed carol ${gaps.at(-1)!.toFixed(1)} ms after bob\n`)
    } finally {
      await carol.shutdown()
    }
  }
} finally {
  for (const n of nodes.reverse()) await n.shutdown().catch(() => {})
  for (const home of homes) await rm(home, { recursive: true, force: true })
}

const sortedGaps = [...gaps].sort((a, b) => a - b)
const sortedStart = [...sinceStart].sort((a, b) => a - b)
const result = {
  rounds,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  load: loadavg()[0],
  afterBobMs: { p50: quantile(sortedGaps, 0.5), p90: quantile(sortedGaps, 0.9), max: sortedGaps.at(-1) },
  afterStartMs: { p50: quantile(sortedStart, 0.5), p90: quantile(sortedStart, 0.9), max: sortedStart.at(-1) }
}
if (opts.json === true) {
  process.stdout.write(JSON.stringify(result, null, 2) + '\n')
} else {
  const ms = (v: number | undefined): string => `${(v ?? NaN).toFixed(1)} ms`
  process.stdout.write([
    `${result.cpu}, ${result.cores} cores, load ${result.load.toFixed(2)}; ${rounds} chained newcomers`,
    `alice lists carol after bob does:       p50 ${ms(result.afterBobMs.p50)}  p90 ${ms(result.afterBobMs.p90)}  max ${ms(result.afterBobMs.max)}`,
    `alice lists carol after carol's start:  p50 ${ms(result.afterStartMs.p50)}  p90 ${ms(result.afterStartMs.p90)}  max ${ms(result.afterStartMs.max)}`,
    ''
  ].join('\n'))
}
