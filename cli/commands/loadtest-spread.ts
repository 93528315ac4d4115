import { MAX_DEADLINE_MS } from '../../protocols/rpc/index.ts'
import { isLocalNetworkAddress, mergeLoadResults, parseLoadShareResult, type LoadShareResult } from '../../loadtest/generator/load-share.ts'
import type { LoadTestOptions } from '../../loadtest/generator/options.ts'
import { runLoadTest, type LoadProgress, type LoadTestResult } from '../../loadtest/generator/run-load-test.ts'
import { UsageError, WorkFailedError } from '../errors.ts'
import { callThroughNode } from './call.ts'

/** Who ran a share of a spread load test; "self" is this process. */
export interface SpreadPeer { id: string, nick: string | null, clients: number, messages: number }

interface PeersReply { self: string, members: Array<{ id: string, nick: string, state: string, services: string[] }> }

/** Time a share may take beyond its own run before its rpc gives up: connecting and answering. */
const SHARE_SLACK_MS = 30_000
/** A share by message count has no duration; it still may not outlast this. */
const SHARE_MAX_MS = 10 * 60_000

/**
 * `mesh loadtest --spread`: this process and every live peer offering `loadtest.run` each run
 * an equal share of the clients (and of the rate), at the same time, against the same target;
 * their HDR histograms are added to ours, so the percentiles are over every message.
 */
export async function runSpread (home: string, options: LoadTestOptions, onProgress?: (p: LoadProgress) => void): Promise<{ result: LoadTestResult, peers: SpreadPeer[] }> {
  // Peers refuse other targets (see load-share.ts); say so before anything starts.
  if (!isLocalNetworkAddress(options.host)) throw new UsageError('--spread needs a loopback or private IP address as the target')
  const reply = await callThroughNode<PeersReply>(home, 'peers', {})
  const helpers = reply.members.filter(m => m.id !== reply.self && m.state === 'alive' && m.services.includes('loadtest.run'))
  if (helpers.length === 0) throw new WorkFailedError('--spread: no live peer offers loadtest.run')
  const parts = helpers.length + 1
  if (options.clients < parts) throw new WorkFailedError(`--spread: ${options.clients} clients cannot be shared by ${parts} generators`)
  const share = Math.floor(options.clients / parts)
  const localClients = options.clients - share * helpers.length
  const rateShare = (clients: number): number | undefined => options.rate == null ? undefined : Math.max(1, Math.round(options.rate * clients / options.clients))
  const connectShare = (clients: number): number | undefined => options.connectRate == null ? undefined : Math.max(1, Math.round(options.connectRate * clients / options.clients))
  const runMs = options.durationS != null ? options.durationS * 1000 : SHARE_MAX_MS
  const deadlineMs = Math.min(MAX_DEADLINE_MS, runMs + options.timeoutMs + SHARE_SLACK_MS)

  const remote = helpers.map(async (peer): Promise<LoadShareResult> => {
    const args = { ...options, clients: share, rate: rateShare(share), connectRate: connectShare(share) }
    const answer = await callThroughNode<{ result: unknown }>(home, 'rpc.call', { service: 'loadtest', method: 'run', args, peer: peer.id, deadlineMs })
    return parseLoadShareResult(answer.result)
  })
  const local = runLoadTest({ ...options, clients: localClients, rate: rateShare(localClients), connectRate: connectShare(localClients) }, onProgress)
  const [mine, ...theirs] = await Promise.all([local, ...remote])
  return {
    result: mergeLoadResults(mine, theirs),
    peers: [
      { id: reply.self, nick: 'self', clients: mine.clients, messages: mine.messages },
      ...helpers.map((peer, i) => ({ id: peer.id, nick: peer.nick, clients: theirs[i].clients, messages: theirs[i].messages }))
    ]
  }
}
