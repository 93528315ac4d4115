import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Libp2p } from '@libp2p/interface'
import type { MeshRpc } from '../rpc/mesh-rpc.ts'
import type { MembershipEventsSource, MemberView } from '../membership/member-view.ts'
import { chatHistory, chatJoin, chatSend, type DashboardChat } from './chat-routes.ts'
import { gatherConnections } from './connection-graph.ts'
import { DashboardFeed, type DashboardFeedComponents } from './dashboard-feed.ts'
import { StaticAssets } from './static-assets.ts'

/** What a node gives its dashboard beyond what the HTTP API already reads. */
export interface DashboardSources {
  chat: DashboardFeedComponents['chat'] & DashboardChat
  memberEvents: MembershipEventsSource
  libp2p: Pick<Libp2p, 'getConnections'>
}

export interface DashboardComponents extends DashboardSources, Omit<DashboardFeedComponents, 'chat' | 'membership' | 'graph'> {
  membership: Pick<MemberView, 'selfMember' | 'members'>
  rpc: Pick<MeshRpc, 'call'>
}

type JsonHandler = (req: IncomingMessage, url: URL, readBody: () => Promise<Record<string, unknown>>) => Promise<unknown>

/**
 * The web dashboard at `/`: its static files, the live feed at /api/events and the chat's
 * two JSON endpoints. The HTTP API serves it, so it gets the API's Host check, its Origin
 * check on every POST and its JSON-only bodies.
 */
export class Dashboard {
  readonly feed: DashboardFeed
  readonly assets = new StaticAssets()
  readonly routes: Record<string, { method: 'GET' | 'POST', handler: JsonHandler }>

  constructor (c: DashboardComponents) {
    const membership = {
      selfMember: () => c.membership.selfMember(),
      members: () => c.membership.members(),
      on: c.memberEvents.on.bind(c.memberEvents),
      off: c.memberEvents.off.bind(c.memberEvents)
    } as DashboardFeedComponents['membership']
    this.feed = new DashboardFeed({
      ...c,
      membership,
      graph: async signal => await gatherConnections({ rpc: c.rpc, membership: c.membership, libp2p: c.libp2p }, signal)
    })
    this.routes = {
      '/api/chat/history': { method: 'GET', handler: async (_req, url) => await chatHistory(c.chat, url) },
      '/api/chat/send': { method: 'POST', handler: async (_req, _url, readBody) => await chatSend(c.chat, await readBody()) },
      '/api/chat/join': { method: 'POST', handler: async (_req, _url, readBody) => await chatJoin(c.chat, await readBody()) }
    }
  }

  start (): void {
    this.feed.start()
  }

  stop (): void {
    this.feed.stop()
  }

  /** GET /api/events. */
  openFeed (res: ServerResponse): void {
    this.feed.open(res)
  }
}
