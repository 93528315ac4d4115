import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MeshProcess, waitUntil } from '../utils/mesh-process.ts'
import { assertNetnsAvailable, createNetwork, type Network } from '../utils/netns.ts'

/**
 * mDNS for real: three hosts, each in its own network namespace, on one bridge. Nothing is
 * bootstrapped, so the only way the nodes can find each other is multicast DNS across the
 * bridge. mDNS never runs in the machine's own namespace (it would multicast out of the real
 * interface); here it runs only inside the namespaces the test builds and deletes.
 *
 * Needs root and iproute2. Without them the test fails with that reason: CI runs as root, and
 * a skipped mDNS test would hide a broken discovery.
 */
describe('mDNS discovery between network namespaces', () => {
  let network: Network | undefined
  let nodes: MeshProcess[] = []

  beforeAll(async () => {
    await assertNetnsAvailable()
    network = await createNetwork(3)
  })

  afterAll(async () => {
    // Nodes first (they hold sockets in the namespaces), then the namespaces, whatever failed.
    await Promise.all(nodes.map(async n => { await n.destroy() }))
    nodes = []
    await network?.destroy()
  })

  it('three nodes with no bootstrap find each other and all show all three alive', async () => {
    const hosts = network!.hosts
    const started = Date.now()
    for (const [i, host] of hosts.entries()) {
      nodes.push(await MeshProcess.start({
        name: `lan${i}`,
        prefix: host.exec,
        // mDNS on (no --no-mdns), listening on the namespace's own interfaces, no bootstrap.
        args: ['--listen', '/ip4/0.0.0.0/tcp/0']
      }))
    }
    const allStarted = Date.now()

    const ids = nodes.map(n => n.id).sort()
    await waitUntil('every node to show all three alive', async () => {
      for (const node of nodes) {
        const { members } = await node.peers()
        const alive = members.filter(m => m.state === 'alive').map(m => m.id).sort()
        if (alive.join() !== ids.join()) return false
      }
      return true
    }, 30_000)
    const converged = Date.now()
    console.info(`mDNS: all three alive everywhere ${converged - allStarted} ms after the last node answered (${converged - started} ms after the first start)`)

    // Each node learned the others' LAN addresses (the bridge), which is how it reached them.
    const { members } = await nodes[0].peers()
    for (const [i, node] of nodes.entries()) {
      const member = members.find(m => m.id === node.id)!
      expect(member.nick).toBe(`lan${i}`)
      expect(member.addrs.filter(a => a.startsWith(`/ip4/${hosts[i].address}/tcp/`) && a.endsWith(`/p2p/${node.id}`))).toHaveLength(1)
    }
  })
})

