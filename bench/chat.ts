/**
 * Chat benchmark: delivery latency, gossip cost and partition healing on a real mesh.
 *
 *   npm run bench:chat -- [--nodes 8] [--messages 2000] [--json]
 *
 * Starts `--nodes` real `mesh start` processes on loopback (mDNS off, test hooks on), then:
 *  1. every node sends its share of `--messages` to the lobby at once (each paced by its own
 *     send rate); waits until every history holds all of them. Latency is, for every
 *     message on every other node, the time it was stored there minus its timestamp (all
 *     nodes share this machine's clock). Gossip cost is the number of message copies the
 *     nodes received (duplicates included) per chat message.
 *  2. partition/heal: the mesh is cut in two halves (connection gater), each half sends
 *     10% more messages, the cut heals, and the time until every node holds every message
 *     is measured by polling message counts every 100 ms (faster polling loads a busy machine).
 * Exit code 1 when a target is missed: p99 ≤ 20 ms, zero loss, histories equal ≤ 3 s after heal.
 */
import { parseArgs } from 'node:util'
import { build } from 'hdr-histogram-js'
import { callNode } from '../cli/control-client.ts'
import { block, counter, history, LOOPBACK_ARGS, sayMany, TEST_HOOKS_ENV, unblock } from '../test/utils/chat-mesh.ts'
import { MeshProcess, waitUntil } from '../test/utils/mesh-process.ts'

const { values: opts } = parseArgs({
  options: { nodes: { type: 'string', default: '8' }, messages: { type: 'string', default: '2000' }, json: { type: 'boolean', default: false } }
})
const NODES = Number(opts.nodes)
const MESSAGES = Number(opts.messages)
const TARGET_P99_MS = 20
const TARGET_HEAL_MS = 3000
const progress = (line: string): void => { process.stderr.write(`${line}\n`) }

async function roomCount (node: MeshProcess): Promise<number> {
  const { rooms } = await callNode<{ rooms: Array<{ room: string, messages: number }> }>(node.home, 'chat.rooms')
  return rooms.find(r => r.room === 'lobby')?.messages ?? 0
}

async function allHold (nodes: MeshProcess[], expected: number): Promise<boolean> {
  return (await Promise.all(nodes.map(roomCount))).every(n => n === expected)
}

async function main (): Promise<number> {
  progress(`starting ${NODES} nodes`)
  const first = await MeshProcess.start({ name: 'n0', args: LOOPBACK_ARGS, env: TEST_HOOKS_ENV })
  const nodes = [first, ...await Promise.all(Array.from({ length: NODES - 1 }, async (_, i) =>
    await MeshProcess.start({ name: `n${i + 1}`, args: LOOPBACK_ARGS, env: TEST_HOOKS_ENV, bootstrap: [first.bootstrapAddr] })))]
  try {
    await waitUntil('every node to see every node alive', async () => {
      for (const n of nodes) if ((await n.peers()).members.filter(m => m.state === 'alive').length !== NODES) return false
      return true
    }, 30_000, 100)
    // Let the gossip meshes form (a gossipsub heartbeat or two) before measuring.
    await new Promise(resolve => setTimeout(resolve, 2000))

    // 1. delivery
    const copiesBefore = (await Promise.all(nodes.map(async n => await counter(n, 'mesh_gossip_copies_received_total', 'topic=chat')))).reduce((a, b) => a + b, 0)
    progress(`sending ${MESSAGES} messages from ${NODES} nodes`)
    const started = Date.now()
    await Promise.all(nodes.map(async (n, i) => {
      const share = Math.floor(MESSAGES / NODES) + (i < MESSAGES % NODES ? 1 : 0)
      await sayMany(n, Array.from({ length: share }, (_, k) => `bench ${i}-${k}`), undefined, 8)
    }))
    const sendSeconds = (Date.now() - started) / 1000
    let delivered = true
    await waitUntil('every node to hold every message', async () => await allHold(nodes, MESSAGES), 60_000, 100).catch(() => { delivered = false })
    const copiesAfter = (await Promise.all(nodes.map(async n => await counter(n, 'mesh_gossip_copies_received_total', 'topic=chat')))).reduce((a, b) => a + b, 0)
    const syncPulled = (await Promise.all(nodes.map(async n => await counter(n, 'mesh_chat_messages_total', 'via=sync')))).reduce((a, b) => a + b, 0)

    const latency = build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000, numberOfSignificantValueDigits: 3 })
    const histories = await Promise.all(nodes.map(async n => await history(n, { received: true })))
    for (let i = 0; i < NODES; i++) {
      for (const m of histories[i]) if (m.from !== nodes[i].id) latency.recordValue(Math.max(0, (m.receivedAt ?? m.ts) - m.ts))
    }
    const orders = histories.map(h => h.map(m => m.id).join())
    const sameOrder = orders.every(o => o === orders[0])
    const loss = NODES * MESSAGES - histories.reduce((sum, h) => sum + new Set(h.map(m => m.id)).size, 0)

    // 2. partition and heal
    const half = Math.floor(NODES / 2)
    const left = nodes.slice(0, half)
    const right = nodes.slice(half)
    progress(`cutting the mesh ${left.length}/${right.length}`)
    for (const n of left) await block(n, right)
    for (const n of right) await block(n, left)
    await waitUntil('each half to see the other dead', async () => {
      const peers = await left[0].peers()
      const peersR = await right[0].peers()
      return peers.members.filter(m => m.state === 'dead').length === right.length && peersR.members.filter(m => m.state === 'dead').length === left.length
    }, 30_000, 100)
    const during = Math.round(MESSAGES / 10)
    await Promise.all(nodes.map(async (n, i) => {
      await sayMany(n, Array.from({ length: Math.ceil(during / NODES) }, (_, k) => `cut ${i}-${k}`), undefined, 8)
    }))
    const total = MESSAGES + Math.ceil(during / NODES) * NODES
    progress('healing')
    const healStart = Date.now()
    await Promise.all([...left.map(async n => { await unblock(n, right) }), ...right.map(async n => { await unblock(n, left) })])
    let healed = true
    await waitUntil('every node to hold every message after the heal', async () => await allHold(nodes, total), 30_000, 100).catch(() => { healed = false })
    const healMs = Date.now() - healStart
    const after = await Promise.all(nodes.map(async n => (await history(n)).map(m => m.id).join()))
    const equalAfterHeal = healed && after.every(o => o === after[0])

    const result = {
      nodes: NODES,
      messages: MESSAGES,
      sendSeconds,
      delivered,
      lost: loss,
      sameOrder,
      latencyMs: { p50: latency.getValueAtPercentile(50), p99: latency.getValueAtPercentile(99), max: latency.maxValue, samples: latency.totalCount },
      gossipCopiesPerMessage: Number(((copiesAfter - copiesBefore) / MESSAGES).toFixed(2)),
      gossipCopiesPerMessagePerReceiver: Number(((copiesAfter - copiesBefore) / MESSAGES / (NODES - 1)).toFixed(2)),
      pulledBySync: syncPulled,
      partition: { messagesDuringCut: total - MESSAGES, healMs, equalAfterHeal }
    }
    if (opts.json) {
      process.stdout.write(JSON.stringify(result) + '\n')
    } else {
      const out = [
        `chat: ${NODES} nodes on loopback, ${MESSAGES} messages from all of them (sent in ${sendSeconds.toFixed(1)} s, paced by each node's send rate)`,
        `delivery latency (stored on the receiver - sender timestamp, ms): p50 ${result.latencyMs.p50}  p99 ${result.latencyMs.p99}  max ${result.latencyMs.max}  (${result.latencyMs.samples} deliveries; target p99 <= ${TARGET_P99_MS})`,
        `lost: ${loss}; same order on every node: ${sameOrder ? 'yes' : 'NO'}; pulled by anti-entropy instead of gossip: ${syncPulled}`,
        `gossip copies received per chat message: ${result.gossipCopiesPerMessage} over all nodes (${result.gossipCopiesPerMessagePerReceiver} per receiving node; 1.00 would be no duplicates)`,
        `partition ${left.length}/${right.length}, ${total - MESSAGES} messages during the cut: histories equal ${healMs} ms after the heal (target <= ${TARGET_HEAL_MS})${equalAfterHeal ? '' : ' -- NOT EQUAL'}`
      ]
      process.stdout.write(out.join('\n') + '\n')
    }
    const ok = delivered && loss === 0 && sameOrder && result.latencyMs.p99 <= TARGET_P99_MS && equalAfterHeal && healMs <= TARGET_HEAL_MS
    return ok ? 0 : 1
  } finally {
    await Promise.all(nodes.map(async n => { await n.destroy() }))
  }
}

process.exitCode = await main()
