import type { Grudge } from '../plan/grudge.ts'
import { type CommandLog, run, runIn, runWithInput } from './commands.ts'
import { bridgeNamespace, CHAIN, hostNamespace, LOSS_CHAIN } from './names.ts'

/**
 * The hosts of a netns run: one network namespace per host, each with `lo` and an `eth0` on
 * a private subnet, joined by a bridge in a namespace of its own. Both ends of every veth
 * are created inside those namespaces, so nothing is ever added to or addressed in the
 * machine's own namespace; deleting the namespaces removes every link, rule and qdisc.
 */
export interface SimHost {
  index: number
  netns: string
  address: string
}

/** Private, and only ever configured inside our namespaces. */
const SUBNET = '10.78.0'
/** mDNS (224.0.0.251) leaves through eth0; without the route multicast sends fail. */
const MULTICAST_ROUTE = '224.0.0.0/4'

/** `slow` needs netem's delay, which this kernel lacks (no sch_netem). */
export class NetemUnavailableError extends Error {
  override name = 'NetemUnavailableError'
}

export class SimNetwork {
  readonly hosts: SimHost[] = []
  /**
   * Whether the kernel has netem (sch_netem). Without it, loss is applied with iptables'
   * statistic match instead (random DROP on input), and delay cannot be applied at all.
   */
  netemAvailable = false
  private readonly created: string[] = []
  private readonly log?: CommandLog

  private constructor (log?: CommandLog) {
    this.log = log
  }

  /** Builds `n` hosts; on failure removes what it made and throws. */
  static async create (n: number, log?: CommandLog): Promise<SimNetwork> {
    const net = new SimNetwork(log)
    try {
      await net.build(n)
    } catch (err) {
      await net.destroy()
      throw err
    }
    return net
  }

  /**
   * The namespaces first (they must exist before a veth can go into them), then each
   * side's links and addresses as one `ip -batch` per namespace, and each host's chains as
   * one `iptables-restore`, the hosts in parallel: 2n + 2 processes instead of 13 per host,
   * one after another.
   */
  private async build (n: number): Promise<void> {
    const br = bridgeNamespace()
    const hosts = Array.from({ length: n }, (_, i) => ({ index: i, netns: hostNamespace(i), address: `${SUBNET}.${i + 1}` }))
    // Listed before they exist: should the batch stop halfway, destroy deletes what it made.
    this.created.push(br, ...hosts.map(h => h.netns))
    await runWithInput('ip', ['-batch', '-'], this.created.map(ns => `netns add ${ns}`).join('\n') + '\n', this.log)
    // Snooping off: the kernel would otherwise filter IPv6 multicast (mDNS ff02::fb) per port.
    await runWithInput('ip', ['-n', br, '-batch', '-'], [
      'link set lo up',
      'link add br0 type bridge mcast_snooping 0',
      'link set br0 up',
      ...hosts.flatMap(h => [`link add v${h.index} type veth peer name eth0 netns ${h.netns}`, `link set v${h.index} master br0`, `link set v${h.index} up`])
    ].join('\n') + '\n', this.log)
    await Promise.all(hosts.map(async host => {
      await runWithInput('ip', ['-n', host.netns, '-batch', '-'], [
        'link set lo up',
        `addr add ${host.address}/24 dev eth0`,
        'link set eth0 up',
        `route add ${MULTICAST_ROUTE} dev eth0`
      ].join('\n') + '\n', this.log)
      // The partition chain, empty until a grudge fills it, and the loss chain; --noflush
      // keeps the namespace's own rules, -w waits for the xtables lock.
      await runWithInput('ip', ['netns', 'exec', host.netns, 'iptables-restore', '-w', '--noflush'], [
        '*filter', `:${CHAIN} - [0:0]`, `:${LOSS_CHAIN} - [0:0]`, `-I INPUT -j ${CHAIN}`, `-A INPUT -j ${LOSS_CHAIN}`, 'COMMIT'
      ].join('\n') + '\n', this.log)
    }))
    this.hosts.push(...hosts)
    const probe = this.hosts[0].netns
    this.netemAvailable = await runIn(probe, 'tc', ['qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'], this.log).then(() => true, () => false)
    if (this.netemAvailable) await runIn(probe, 'tc', ['qdisc', 'del', 'dev', 'lo', 'root'], this.log)
  }

  /** Jepsen's partition: each host drops (silently, no RST) the packets from the hosts it holds a grudge against. */
  async partition (grudge: Grudge): Promise<void> {
    await Promise.all(Object.entries(grudge).map(async ([node, drops]) => {
      const host = this.hosts[Number(node)]
      for (const peer of drops) await runIn(host.netns, 'iptables', ['-w', '-A', CHAIN, '-s', this.hosts[peer].address, '-j', 'DROP'], this.log)
    }))
  }

  /** Empties every host's chain; returns the packets the rules dropped (the proof the cut bit). */
  async heal (): Promise<{ droppedPackets: number }> {
    const counts = await Promise.all(this.hosts.map(async host => {
      const listing = await runIn(host.netns, 'iptables', ['-w', '-L', CHAIN, '-v', '-x', '-n'], this.log)
      await runIn(host.netns, 'iptables', ['-w', '-F', CHAIN], this.log)
      return sumColumn(listing, /^\s*(\d+)\s+\d+\s+DROP/)
    }))
    return { droppedPackets: counts.reduce((a, b) => a + b, 0) }
  }

  /**
   * netem on the hosts' eth0 (their egress): delay with jitter, and loss. Without netem in the
   * kernel, loss goes into iptables (random DROP of input) and delay is left out; returns
   * whether the delay was applied.
   */
  async netem (nodes: number[], delayMs: number, jitterMs: number, lossPercent: number): Promise<{ delayApplied: boolean }> {
    if (!this.netemAvailable) {
      // Delay cannot be had without netem; the window then shows as a fault that did not bite.
      if (lossPercent === 0) return { delayApplied: false }
      const probability = (lossPercent / 100).toFixed(4)
      await Promise.all(nodes.map(async n => { await runIn(this.hosts[n].netns, 'iptables', ['-w', '-A', LOSS_CHAIN, '-m', 'statistic', '--mode', 'random', '--probability', probability, '-j', 'DROP'], this.log) }))
      return { delayApplied: false }
    }
    const args = ['qdisc', 'replace', 'dev', 'eth0', 'root', 'netem']
    if (delayMs > 0) args.push('delay', `${delayMs}ms`, `${jitterMs}ms`, 'distribution', 'normal')
    if (lossPercent > 0) args.push('loss', `${lossPercent}%`)
    await Promise.all(nodes.map(async n => { await runIn(this.hosts[n].netns, 'tc', args, this.log) }))
    return { delayApplied: delayMs > 0 }
  }

  /** Removes netem; returns the packets it sent and dropped. */
  async netemClear (nodes: number[]): Promise<{ sentPackets: number, droppedPackets: number }> {
    const totals = { sentPackets: 0, droppedPackets: 0 }
    for (const n of nodes) {
      const netns = this.hosts[n].netns
      if (!this.netemAvailable) {
        const listing = await runIn(netns, 'iptables', ['-w', '-L', LOSS_CHAIN, '-v', '-x', '-n'], this.log)
        await runIn(netns, 'iptables', ['-w', '-F', LOSS_CHAIN], this.log)
        totals.droppedPackets += sumColumn(listing, /^\s*(\d+)\s+\d+\s+DROP/)
        continue
      }
      const stats = await runIn(netns, 'tc', ['-s', 'qdisc', 'show', 'dev', 'eth0'], this.log)
      const m = /netem[\s\S]*?Sent \d+ bytes (\d+) pkt \(dropped (\d+)/.exec(stats)
      if (m != null) {
        totals.sentPackets += Number(m[1])
        totals.droppedPackets += Number(m[2])
      }
      await runIn(netns, 'tc', ['qdisc', 'del', 'dev', 'eth0', 'root'], this.log).catch(() => {})
    }
    return totals
  }

  /** Deletes the namespaces, hosts first (their eth0 takes the bridge's veth end along). Idempotent. */
  async destroy (): Promise<void> {
    for (const ns of [...this.created].reverse()) await run('ip', ['netns', 'delete', ns], this.log).catch(() => {})
    this.created.length = 0
  }
}

function sumColumn (listing: string, pattern: RegExp): number {
  let sum = 0
  for (const line of listing.split('\n')) {
    const m = pattern.exec(line)
    if (m != null) sum += Number(m[1])
  }
  return sum
}
