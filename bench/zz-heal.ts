import { callNode } from '/work/main/cli/control-client.ts'
import { block, unblock, startChatMesh } from '/work/main/test/utils/chat-mesh.ts'
import { waitUntil } from '/work/main/test/utils/mesh-process.ts'
const nodes = await startChatMesh(['a1', 'a2', 'b1', 'b2'])
const left = nodes.slice(0, 2), right = nodes.slice(2)
await new Promise(r => setTimeout(r, 3000))
for (const n of left) await block(n, right)
for (const n of right) await block(n, left)
await waitUntil('dead', async () => (await left[0].peers()).members.filter(m => m.state === 'dead').length === 2 && (await right[0].peers()).members.filter(m => m.state === 'dead').length === 2, 30000, 100)
const t = Date.now()
await Promise.all([...left.map(n => unblock(n, right)), ...right.map(n => unblock(n, left))])
await waitUntil('conns', async () => (await Promise.all(nodes.map(async n => (await callNode(n.home, 'stats')).connections))).every(c => c === 3), 30000, 20)
console.log('connected after', Date.now() - t)
await waitUntil('alive', async () => (await Promise.all(nodes.map(async n => (await n.peers()).members.filter(m => m.state === 'alive').length))).every(c => c === 4), 30000, 20)
console.log('all alive after', Date.now() - t)
await Promise.all(nodes.map(n => n.destroy()))
