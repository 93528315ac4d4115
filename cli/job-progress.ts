import { displayPeerId } from '../node/peers/peer-names.ts'
import { plural } from './output.ts'
import { sanitize } from './shell/format.ts'

/** One peer's share of a job, as progress events and reports carry it. */
export interface PeerShare {
  id: string
  shards: number
}

/** What the node knows of a peer: its nick and its membership state. */
export type PeerLookup = (id: string) => { nick: string, state: string } | undefined

/**
 * Each peer's part of a job for people: "shards done: bob 4 · carol 3 · dan 2 (dead, its
 * shards reassigned)". Peers by nick (the end of the id when unknown), the unit said once,
 * and a peer that died mid-job marked as such, since its unfinished shards went to others.
 */
export function shardsDoneLine (peers: readonly PeerShare[], lookup: PeerLookup): string {
  const parts = peers.filter(p => p.shards > 0).map(p => {
    const known = lookup(p.id)
    const name = known != null ? sanitize(known.nick) : displayPeerId(p.id)
    const gone = known?.state === 'dead' ? ' (dead, its shards reassigned)' : known?.state === 'left' ? ' (left, its shards reassigned)' : ''
    return `${name} ${p.shards}${gone}`
  })
  return parts.length === 0 ? 'no shard done yet' : `shards done: ${parts.join(' · ')}`
}

/** A finished count as the node reports it (bigints as decimal strings). */
export interface CountReport {
  from: string
  to: string
  count: string
  seconds: number
  shards: number
  peers: PeerShare[]
  retries: number
  reassigned: number
  liars?: string[]
}

/**
 * The one sentence `mesh primes count` and the shell's /primes print: "148933 primes in
 * [2, 2000000] · 0.41 s · 8 shards on 3 peers · 0 retries", then what went wrong and was
 * repaired (shards reassigned from a lost peer), then, with verify, how it was checked.
 */
export function countSentence (r: CountReport, opts: { verify: boolean, lookup: PeerLookup }): string {
  const peers = r.peers.filter(p => p.shards > 0).length
  const parts = [
    `${plural(r.count, 'prime')} in [${r.from}, ${r.to}]`,
    `${r.seconds} s`,
    `${plural(r.shards, 'shard')} on ${plural(peers, 'peer')}`,
    plural(r.retries, 'retry', 'retries')
  ]
  if (r.reassigned > 0) parts.push(`${plural(r.reassigned, 'shard')} reassigned from lost or slow peers`)
  if (opts.verify) {
    const liars = (r.liars ?? []).map(id => { const k = opts.lookup(id); return k != null ? sanitize(k.nick) : displayPeerId(id) })
    parts.push(liars.length === 0
      ? 'verified: every shard counted by two different peers, who agreed'
      : `verified: every shard counted by two different peers until two agreed; disagreeing: ${liars.join(', ')}`)
  }
  return parts.join(' · ')
}
