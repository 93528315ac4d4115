import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

/**
 * Private LANs built from Linux network namespaces, for tests that need real multicast (mDNS)
 * or real packet loss (iptables) without touching the machine's own network.
 *
 * Layout of one network: a namespace per host, each with `lo` and an `eth0` addressed in a
 * private test subnet, plus one more namespace that holds only the bridge joining them. Both
 * ends of every veth pair are created inside those namespaces, so nothing is ever added to,
 * or addressed in, the machine's own namespace, and deleting the namespaces removes
 * everything (veths die with their namespace).
 *
 * Names are `meshT<pid>n<k>-<role>`: the pid tells which leftovers belong to a dead run, so
 * several test files (other pids) can use their own networks at the same time.
 */

export const NETNS_PREFIX = 'meshT'
/** The default subnet: private, and only ever configured inside our namespaces. */
const DEFAULT_SUBNET = '10.77.0'
/** mDNS (224.0.0.251) and any other multicast leave through eth0; without this route multicast-dns finds nobody and says nothing. */
const MULTICAST_ROUTE = '224.0.0.0/4'

export class NetnsUnavailableError extends Error {
  override name = 'NetnsUnavailableError'
}

export interface NetHost {
  /** The host's network namespace. */
  readonly netns: string
  /** Its address on the test LAN, e.g. 10.77.0.1 */
  readonly address: string
  /** Prepend to a command to run it in this host: `[...host.exec, process.execPath, ...]`. */
  readonly exec: string[]
  /** Runs one command in this host and returns its stdout; throws with stderr on failure. */
  run: (cmd: string, args: string[]) => Promise<string>
}

export interface Network {
  readonly name: string
  readonly hosts: NetHost[]
  /**
   * Cuts every packet between the two groups in both directions (iptables DROP in each host
   * of `a` for the addresses of `b`, and back); traffic inside each group keeps flowing.
   */
  partition: (a: NetHost[], b: NetHost[]) => Promise<void>
  /** Removes every rule `partition` added. */
  heal: () => Promise<void>
  /** Deletes the namespaces (and with them the veths, the bridge and any rules). Idempotent. */
  destroy: () => Promise<void>
}

export interface NetworkOptions {
  /** First three octets of a /24, default 10.77.0; hosts get .1, .2, ... */
  subnet?: string
}

let networksCreated = 0
/** Networks of this process not yet destroyed: the only `meshT<our pid>` names that are not leftovers. */
const liveNetworks = new Set<string>()

async function ip (args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync('ip', args)
    return stdout
  } catch (err: any) {
    throw new Error(`ip ${args.join(' ')} failed: ${String(err?.stderr ?? err?.message).trim()}`)
  }
}

/**
 * Throws `NetnsUnavailableError` with the reason when this process cannot build namespaces:
 * tests that need them fail with that one line rather than being skipped.
 */
export async function assertNetnsAvailable (): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new NetnsUnavailableError('network-namespace tests must run as root (they create namespaces, veths and a bridge)')
  }
  try {
    await execFileAsync('ip', ['netns', 'list'])
  } catch (err: any) {
    throw new NetnsUnavailableError(`the \`ip\` command (iproute2) is needed for network-namespace tests: ${err?.code === 'ENOENT' ? 'not installed' : String(err?.stderr ?? err?.message).trim()}`)
  }
}

/**
 * Deletes namespaces left by runs whose process is gone (a crashed or killed test run), and
 * those carrying our own pid that this process did not create (pids are reused).
 */
export async function removeLeftoverNetworks (): Promise<string[]> {
  const removed: string[] = []
  for (const ns of await listNamespaces()) {
    const match = new RegExp(`^(${NETNS_PREFIX}(\\d+)n\\d+)-`).exec(ns)
    if (match == null) continue
    const pid = Number(match[2])
    if (pid === process.pid ? liveNetworks.has(match[1]) : isAlive(pid)) continue
    await ip(['netns', 'delete', ns]).catch(() => {})
    removed.push(ns)
  }
  return removed
}

/** Builds `n` hosts on one bridge; see the file comment for the layout. */
export async function createNetwork (n: number, opts: NetworkOptions = {}): Promise<Network> {
  if (!Number.isInteger(n) || n < 1 || n > 200) throw new RangeError(`createNetwork: n must be 1 to 200, got ${n}`)
  const subnet = opts.subnet ?? DEFAULT_SUBNET
  if (!/^\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(subnet)) throw new RangeError(`createNetwork: subnet must be three octets such as 10.77.0, got ${subnet}`)
  await assertNetnsAvailable()
  await removeLeftoverNetworks()

  const name = `${NETNS_PREFIX}${process.pid}n${++networksCreated}`
  const bridgeNs = `${name}-br`
  const created: string[] = []
  liveNetworks.add(name)
  const destroy = async (): Promise<void> => {
    // Hosts first: their eth0 takes the bridge-side veth end with it.
    for (const ns of [...created].reverse()) {
      await ip(['netns', 'delete', ns]).catch(() => {})
    }
    created.length = 0
    liveNetworks.delete(name)
  }

  try {
    await ip(['netns', 'add', bridgeNs])
    created.push(bridgeNs)
    await ip(['-n', bridgeNs, 'link', 'set', 'lo', 'up'])
    await ip(['-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge'])
    await ip(['-n', bridgeNs, 'link', 'set', 'br0', 'up'])

    const hosts: NetHost[] = []
    for (let i = 0; i < n; i++) {
      const netns = `${name}-h${i}`
      const address = `${subnet}.${i + 1}`
      await ip(['netns', 'add', netns])
      created.push(netns)
      // Created in the bridge namespace with its peer placed straight into the host: no
      // interface ever exists in the machine's own namespace, not even for a moment.
      await ip(['-n', bridgeNs, 'link', 'add', `v${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns])
      await ip(['-n', bridgeNs, 'link', 'set', `v${i}`, 'master', 'br0'])
      await ip(['-n', bridgeNs, 'link', 'set', `v${i}`, 'up'])
      await ip(['-n', netns, 'link', 'set', 'lo', 'up'])
      await ip(['-n', netns, 'addr', 'add', `${address}/24`, 'dev', 'eth0'])
      await ip(['-n', netns, 'link', 'set', 'eth0', 'up'])
      await ip(['-n', netns, 'route', 'add', MULTICAST_ROUTE, 'dev', 'eth0'])
      const exec = ['ip', 'netns', 'exec', netns]
      hosts.push({
        netns,
        address,
        exec,
        run: async (cmd, args) => {
          try {
            return (await execFileAsync('ip', ['netns', 'exec', netns, cmd, ...args])).stdout
          } catch (err: any) {
            const said = [err?.stderr, err?.stdout].map(t => String(t ?? '').trim()).filter(t => t !== '').join('; ')
            throw new Error(`${cmd} ${args.join(' ')} in ${netns} failed: ${said !== '' ? said : err?.message}`)
          }
        }
      })
    }

    const rules: Array<{ host: NetHost, rule: string[] }> = []
    const partition = async (a: NetHost[], b: NetHost[]): Promise<void> => {
      for (const [from, to] of [[a, b], [b, a]]) {
        for (const host of from) {
          for (const peer of to) {
            for (const rule of [['INPUT', '-s', peer.address, '-j', 'DROP'], ['OUTPUT', '-d', peer.address, '-j', 'DROP']]) {
              await host.run('iptables', ['-w', '-A', ...rule])
              rules.push({ host, rule })
            }
          }
        }
      }
    }
    const heal = async (): Promise<void> => {
      while (rules.length > 0) {
        const { host, rule } = rules.pop()!
        await host.run('iptables', ['-w', '-D', ...rule]).catch(() => {})
      }
    }

    return { name, hosts, partition, heal, destroy }
  } catch (err) {
    await destroy()
    throw err
  }
}

async function listNamespaces (): Promise<string[]> {
  // `ip netns list` prints "name" or "name (id: N)".
  return (await ip(['netns', 'list'])).split('\n').map(l => l.trim().split(' ')[0]).filter(l => l !== '')
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err: any) {
    return err?.code === 'EPERM'
  }
}
