import { prepareSmallPrimes } from '../compute/primes/small-prime-count.ts'
import { Dashboard, type DashboardSources } from '../dashboard/dashboard.ts'
import { MAX_ROLE_LENGTH } from '../../protocols/membership/constants.ts'
import type { JobService } from '../jobs/job-service.ts'
import { defaultLogger, type MeshLogger } from '../logging/logger.ts'
import type { MemberView } from '../membership/member-view.ts'
import type { MeshMetrics } from '../metrics/metrics.ts'
import type { MeshRpc } from '../rpc/mesh-rpc.ts'
import type { Clock } from '../time/clock.ts'
import { GatewayMetrics } from './gateway-metrics.ts'
import { GatewayWork } from './gateway-work.ts'
import { HttpApi, type HttpApiComponents } from './http-api.ts'
import { LineGateway } from './line-gateway.ts'
import { roleOf, type ListenAddress } from './listen-address.ts'

export interface GatewayComponents {
  rpc: Pick<MeshRpc, 'call' | 'stream'>
  jobs: Pick<JobService, 'count' | 'list' | 'running'>
  membership: Pick<MemberView, 'selfMember' | 'members'>
  tasks: HttpApiComponents['tasks']
  stats: HttpApiComponents['stats']
  metrics: MeshMetrics
  clock: Clock
  logger?: MeshLogger
  /** With these, the HTTP API serves the web dashboard at `/`. */
  dashboard?: DashboardSources
}

export interface GatewayInit {
  /** The line protocol's address; none: no line protocol. */
  line?: ListenAddress
  /** The HTTP API's address; none: no HTTP API. */
  http?: ListenAddress
  maxConnections?: number
  idleTimeoutMs?: number
  maxInFlight?: number
}

/**
 * The gateway role: the line protocol and the HTTP API for clients outside the mesh, both
 * forwarding work into it through one GatewayWork. Advertised in heartbeats as roles
 * (`gateway=HOST:PORT`, `http=HOST:PORT`) once listening.
 */
export class GatewayService {
  readonly line?: LineGateway
  readonly http?: HttpApi
  private readonly metrics: GatewayMetrics
  private listening = false

  constructor (components: GatewayComponents, init: GatewayInit) {
    const logger = components.logger ?? defaultLogger
    const metrics = new GatewayMetrics(components.metrics)
    this.metrics = metrics
    const work = new GatewayWork({ rpc: components.rpc, jobs: components.jobs, membership: components.membership, metrics, clock: components.clock })
    if (init.line != null) {
      this.line = new LineGateway({ work, metrics, clock: components.clock, logger }, {
        ...init.line, maxConnections: init.maxConnections, idleTimeoutMs: init.idleTimeoutMs, maxInFlight: init.maxInFlight
      })
    }
    if (init.http != null) {
      this.http = new HttpApi({
        work,
        membership: components.membership,
        stats: components.stats,
        jobs: components.jobs,
        tasks: components.tasks,
        metrics: components.metrics,
        gatewayMetrics: metrics,
        clock: components.clock,
        logger,
        dashboard: components.dashboard != null
          ? new Dashboard({ ...components.dashboard, membership: components.membership, rpc: components.rpc, jobs: components.jobs, metrics: components.metrics, clock: components.clock, logger })
          : undefined
      }, { ...init.http, maxConnections: init.maxConnections })
    }
  }

  async start (): Promise<void> {
    // What the first requests would load and build on their way (about 40 ms of this event
    // loop on a fresh node), done before the first client can queue behind it: the table
    // behind `prime` and small `count`s, and the latency summaries' histograms.
    prepareSmallPrimes()
    this.metrics.prepare()
    await this.line?.start()
    try {
      await this.http?.start()
    } catch (err) {
      await this.line?.stop()
      throw err
    }
    this.listening = true
  }

  async stop (): Promise<void> {
    this.listening = false
    await Promise.all([this.line?.stop(), this.http?.stop()])
  }

  /** The roles this node advertises: where its gateway listens. */
  roles (): string[] {
    if (!this.listening) return []
    const roles: string[] = []
    const line = this.line?.address()
    const http = this.http?.address()
    if (line != null) roles.push(roleOf('gateway', line, MAX_ROLE_LENGTH))
    if (http != null) roles.push(roleOf('http', http, MAX_ROLE_LENGTH))
    return roles
  }
}
