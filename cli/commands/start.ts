import { Option, type Command } from 'commander'
import type { MemberTransition } from '../../node/membership/member.ts'
import { UsageError } from '../errors.ts'
import { homeOf, parsePositiveInt, withHome } from '../options.ts'
import { terminalSafe } from '../terminal-safe.ts'
import { displayPeerId } from '../../node/peers/peer-names.ts'
import { capYoungGeneration, withSmallYoungGeneration } from '../young-generation.ts'
import { holdOldGenerationGrowth } from '../old-generation.ts'
import { exitIfStillRunningAfterLeave } from '../exit-after-leave.ts'

const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

/** `mesh start`: run a node until SIGINT, SIGTERM or SIGHUP, then leave cleanly. */
export function registerStartCommand (program: Command): void {
  withHome(program.command('start').description('run a node'))
    .option('--name <nick>', 'the nick peers see (default: the host name)')
    .option('--listen <multiaddr>', 'listen address, repeatable (default /ip4/0.0.0.0/tcp/0)', collect)
    .option('--bootstrap <multiaddr>', 'a peer to join through, repeatable', collect)
    .option('--no-mdns', 'do not discover peers on the LAN by mDNS')
    .option('--workers <n>', 'worker threads (default: one per core)', parsePositiveInt('--workers', 256))
    .addOption(new Option('--heartbeat <ms>', 'heartbeat interval in ms').argParser(parsePositiveInt('--heartbeat', 60_000)))
    .option('--swarm-key <file>', 'join only the private mesh that shares this key (see `mesh swarm-key`)')
    .option('--gateway <[host:]port>', 'serve the gateway line protocol for clients outside the mesh (host 127.0.0.1 unless given)')
    .option('--http <[host:]port>', 'serve the HTTP API, /metrics and the web dashboard at / (host 127.0.0.1 unless given)')
    .option('--gateway-max-connections <n>', 'connections each gateway server keeps open at most (default 1024)', parsePositiveInt('--gateway-max-connections', 1_000_000))
    .option('--gateway-idle-timeout <ms>', 'disconnect a gateway client silent this long (default 300000)', parsePositiveInt('--gateway-idle-timeout', 86_400_000))
    .option('--allow-loadtest', 'run shares of other members\' load tests (mesh loadtest --spread); off by default')
    .option('--reap-after <seconds>', 'forget dead and left members this long after they went (default 600)', parsePositiveInt('--reap-after', 7 * 24 * 3600))
    .action(async (opts) => {
      const home = homeOf(opts)
      holdOldGenerationGrowth()
      const node = await withSmallYoungGeneration(async () => {
        // Loaded here, not at the top: `mesh peers` and friends need none of libp2p.
        const { readSwarmKey } = await import('../../node/libp2p/swarm-key.ts')
        const { createMeshNode } = await import('../../node/mesh-node.ts')
        const swarmKey = opts.swarmKey != null ? await readSwarmKey(opts.swarmKey).catch((err: Error) => { throw new UsageError(err.message) }) : undefined
        return await createMeshNode({
          home,
          nick: opts.name,
          listen: opts.listen,
          bootstrap: opts.bootstrap,
          mdns: opts.mdns,
          heartbeatMs: opts.heartbeat,
          workers: opts.workers,
          swarmKey,
          gateway: opts.gateway,
          http: opts.http,
          gatewayMaxConnections: opts.gatewayMaxConnections,
          gatewayIdleTimeoutMs: opts.gatewayIdleTimeout,
          allowLoadTest: opts.allowLoadtest === true,
          reapAfterMs: opts.reapAfter != null ? opts.reapAfter * 1000 : undefined
        }).catch((err: Error) => {
          if (err.name === 'InvalidConfigError') throw new UsageError(err.message)
          throw err
        })
      })

      capYoungGeneration()
      const { installCrashGuard } = await import('../crash-guard.ts')
      installCrashGuard(node)

      if (process.stdin.isTTY) {
        // A person at a terminal: the chat shell, until /quit (a clean leave).
        const { runShell } = await import('../shell/chat-shell.ts')
        await runShell(node)
        exitIfStillRunningAfterLeave()
        return
      }

      // The log names peers by the nicks they chose: made safe for the terminal.
      const say = (line: string): void => { process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${terminalSafe(line)}\n`) }
      say(`${node.config.nick} ${node.peerId} started${node.config.mdns ? '' : ' (mDNS off)'}`)
      for (const addr of node.addrs()) say(`listening on ${addr}`)
      const line = node.gateway?.line?.address()
      const http = node.gateway?.http?.address()
      if (line != null) say(`gateway line protocol on ${line.host}:${line.port}`)
      if (http != null) say(`dashboard on http://${http.host.includes(':') ? `[${http.host}]` : http.host}:${http.port}/, HTTP API under /api, metrics on /metrics`)
      const onChange = (t: MemberTransition): void => {
        const cause = t.cause === 'leave' ? '' : ` (${t.cause.replace('-', ' ')})`
        say(`${t.member.nick} ${displayPeerId(t.member.id)} ${t.from ?? 'new'} -> ${t.to}${cause}`)
      }
      for (const event of ['member:join', 'member:update', 'member:dead', 'member:leave'] as const) {
        node.membership.on(event, onChange)
      }

      await new Promise<void>(resolve => {
        let stopping = false
        const stop = (signal: string): void => {
          if (stopping) {
            // A second Ctrl-C: the user wants out now.
            process.exit(130)
          }
          stopping = true
          say(`${signal}: leaving the mesh`)
          node.shutdown().catch(() => {}).finally(resolve)
        }
        process.once('SIGINT', () => { stop('SIGINT'); process.on('SIGINT', () => stop('SIGINT')) })
        process.once('SIGTERM', () => { stop('SIGTERM') })
        // The terminal closed: as deliberate as Ctrl-C, so a leave, not a crash.
        process.once('SIGHUP', () => { stop('SIGHUP') })
      })
      exitIfStillRunningAfterLeave()
    })
}
