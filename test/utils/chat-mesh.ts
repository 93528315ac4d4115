import { callNode } from '../../cli/control-client.ts'
import { MeshProcess, waitUntil } from './mesh-process.ts'

// The chat tests read their drop counters through this module.
export { counter } from './mesh-process.ts'

export interface ChatMessageJson {
  id: string
  from: string
  nick: string
  /** The nick, or nick#abc123 when two known peers hold it. */
  label: string
  ts: number
  lc: number
  text: string
  to?: string
  /** With `received: true`: when the message reached the node. */
  receivedAt?: number
}

export const LOOPBACK_ARGS = ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0']
/** Nodes started with the test hooks on: `test.block` cuts the mesh on loopback. */
export const TEST_HOOKS_ENV = { MESH_TEST_HOOKS: '1' }

/** Starts nodes on loopback with the test hooks, the first the bootstrap of the others. */
export async function startChatMesh (names: string[]): Promise<MeshProcess[]> {
  const first = await MeshProcess.start({ name: names[0], args: LOOPBACK_ARGS, env: TEST_HOOKS_ENV })
  const rest = await Promise.all(names.slice(1).map(async name =>
    await MeshProcess.start({ name, args: LOOPBACK_ARGS, env: TEST_HOOKS_ENV, bootstrap: [first.bootstrapAddr] })))
  return [first, ...rest]
}

export async function restartNode (node: MeshProcess, bootstrap: MeshProcess): Promise<MeshProcess> {
  return await MeshProcess.start({ name: node.name, home: node.home, args: LOOPBACK_ARGS, env: TEST_HOOKS_ENV, bootstrap: [bootstrap.bootstrapAddr] })
}

export async function history (node: MeshProcess, params: Record<string, unknown> = {}): Promise<ChatMessageJson[]> {
  const answer = await callNode<{ messages: ChatMessageJson[] }>(node.home, 'chat.history', { limit: 100_000, ...params })
  return answer.messages
}

export async function say (node: MeshProcess, text: string, room?: string): Promise<ChatMessageJson> {
  return await callNode(node.home, 'chat.send', { room, text })
}

/** Sends `texts` from `node` with a few requests in flight, as a busy script would. */
export async function sayMany (node: MeshProcess, texts: string[], room?: string, inFlight = 16): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < texts.length) await say(node, texts[next++], room)
  }))
}

/** Every node holds exactly `expected` messages of the room, each once, in the same order. */
export async function waitForEqualHistories (nodes: MeshProcess[], expected: number, room?: string, timeoutMs = 30_000): Promise<ChatMessageJson[]> {
  let reference: ChatMessageJson[] = []
  await waitUntil(`${nodes.length} equal histories of ${expected} messages`, async () => {
    const histories = await Promise.all(nodes.map(async n => await history(n, { room })))
    if (histories.some(h => h.length !== expected)) return false
    const ids = histories.map(h => h.map(m => m.id).join())
    reference = histories[0]
    return ids.every(i => i === ids[0])
  }, timeoutMs, 200)
  return reference
}

export async function block (node: MeshProcess, peers: MeshProcess[]): Promise<void> {
  await callNode(node.home, 'test.block', { block: peers.map(p => p.id) })
}

export async function unblock (node: MeshProcess, peers: MeshProcess[]): Promise<void> {
  await callNode(node.home, 'test.block', { unblock: peers.map(p => p.id) })
}
