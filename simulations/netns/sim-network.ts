import type { Grudge } from '../plan/grudge.ts'
import { type CommandLog, run, runIn } from './commands.ts'
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

  private async ip (args: string[]): Promise<void> {
    await run('ip', args, this.log)
  }

  private async build (n: number): Promise<void> {
    const br = bridgeNamespace()
    await this.ip(['netns', 'add', br])
    this.created.push(br)
    await this.ip(['-n', br, 'link', 'set', 'lo', 'up'])
    // Snooping off: the kernel would otherwise filter IPv6 multicast (mDNS ff02::fb) per port.
    await this.ip(['-n', br, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0'])
    await this.ip(['-n', br, 'link', 'set', 'br0', 'up'])
    for (let i = 0; i < n; i++) {
      const netns = hostNamespace(i)
      const address = `${SUBNET}.${i + 1}`
      await this.ip(['netns', 'add', netns])
      this.created.push(netns)
      await this.ip(['-n', br, 'link', 'add', `v${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns])
      await this.ip(['-n', br, 'link', 'set', `v${i}`, 'master', 'br0'])
      await this.ip(['-n', br, 'link', 'set', `v${i}`, 'up'])
      await this.ip(['-n', netns, 'link', 'set', 'lo', 'up'])
      await this.ip(['-n', netns, 'addr', 'add', `${address}/24`, 'dev', 'eth0'])
      await this.ip(['-n', netns, 'link', 'set', 'eth0', 'up'])
      await this.ip(['-n', netns, 'route', 'add', MULTICAST_ROUTE, 'dev', 'eth0'])
      // The partition chain, empty until a grudge fills it; -w waits for the xtables lock.
      await runIn(netns, 'iptables', ['-w', '-N', CHAIN], this.log)
      await runIn(netns, 'iptables', ['-w', '-I', 'INPUT', '-j', CHAIN], this.log)
      await runIn(netns, 'iptables', ['-w', '-N', LOSS_CHAIN], this.log)
      await runIn(netns, 'iptables', ['-w', '-A', 'INPUT', '-j', LOSS_CHAIN], this.log)
      this.hosts.push({ index: i, netns, address })
    }
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
