import { faultWindows } from '../history/fault-windows.ts'
import { operations, type HistoryEvent } from '../history/history.ts'
import { type CheckContext, type CheckResult, contextOf, quantiles } from './check-result.ts'

/** One message as a node's final read shows it; `at` is when it reached that node (history time). */
export interface ReadMessage {
  id: string
  text: string
  at: number
}

/**
 * Chat, as Maelstrom's broadcast checker and Jepsen's set-full: every acknowledged send is on
 * every node that answered the final read (lost = 0); no node holds a message twice or two
 * messages for one send (duplicated = 0); the nodes agree on the order; messages sent during
 * a fault reach everyone after the heal; and the stable latency (until on all nodes).
 * Sends that ended in `info` (indeterminate) may or may not appear.
 */
export function checkChat (history: readonly HistoryEvent[], _ctx: CheckContext = contextOf(history)): CheckResult {
  const sends = operations(history, 'chat.send')
  const reads = operations(history, 'chat.read').filter(r => r.done?.type === 'ok')
  const failedReads = operations(history, 'chat.read').filter(r => r.done?.type !== 'ok').map(r => `n${r.node}`)
  // The id the node gave each acknowledged send.
  const acked = sends.filter(s => s.done?.type === 'ok').map(s => ({ ...s, id: String(s.done?.value?.id) }))
  if (acked.length === 0) return { valid: 'unknown', summary: 'no chat message was acknowledged' }
  if (reads.length === 0) return { valid: 'unknown', summary: 'no node answered the final read' }

  const textOfSend = new Map(sends.map(s => [String(s.invoke.value?.text), s]))
  const windows = faultWindows(history)
  const duringFault = (t: number): boolean => windows.some(w => w.start <= t && t <= w.end)

  const lost: Record<string, number> = {}
  const duplicated: Record<string, number> = {}
  const unexpected: string[] = []
  const sequences: Array<{ node: number, ids: string[] }> = []
  const arrivals = new Map<string, number[]>()
  for (const read of reads) {
    const messages: ReadMessage[] = read.done?.value?.messages ?? []
    const ids = new Set<string>()
    const idsOfText = new Map<string, Set<string>>()
    let dups = 0
    for (const m of messages) {
      if (ids.has(m.id)) dups++
      ids.add(m.id)
      const forText = idsOfText.get(m.text) ?? new Set()
      forText.add(m.id)
      idsOfText.set(m.text, forText)
      if (!textOfSend.has(m.text)) unexpected.push(`n${read.node} holds "${m.text.slice(0, 40)}" that nobody sent`)
      const list = arrivals.get(m.id) ?? []
      list.push(m.at)
      arrivals.set(m.id, list)
    }
    for (const forText of idsOfText.values()) if (forText.size > 1) dups += forText.size - 1
    if (dups > 0) duplicated[`n${read.node}`] = dups
    const missing = acked.filter(s => !ids.has(s.id)).length
    if (missing > 0) lost[`n${read.node}`] = missing
    sequences.push({ node: read.node, ids: messages.map(m => m.id) })
  }

  const orderMismatches = orderDisagreements(sequences)
  const readers = reads.length
  const duringCut = acked.filter(s => duringFault(s.invoke.t))
  const duringCutMissing = duringCut.filter(s => (arrivals.get(s.id)?.length ?? 0) < readers).length
  const stable = acked
    .map(s => ({ sent: s.invoke.t, at: arrivals.get(s.id) ?? [] }))
    .filter(x => x.at.length === readers)
    .map(x => ({ sent: x.sent, latency: Math.max(0, Math.max(...x.at) - x.sent) }))

  const lostTotal = Object.values(lost).reduce((a, b) => a + b, 0)
  const dupTotal = Object.values(duplicated).reduce((a, b) => a + b, 0)
  const valid = lostTotal === 0 && dupTotal === 0 && orderMismatches.length === 0 && unexpected.length === 0
  return {
    valid,
    summary: `${acked.length} sent, ${lostTotal} lost, ${dupTotal} duplicated, ${orderMismatches.length} order disagreements; ` +
      `${duringCut.length - duringCutMissing}/${duringCut.length} sent during faults delivered after the heal`,
    sent: sends.length,
    acknowledged: acked.length,
    indeterminate: sends.filter(s => s.done == null || s.done.type === 'info').length,
    failed: sends.filter(s => s.done?.type === 'fail').length,
    readers,
    failedReads,
    lost,
    duplicated,
    unexpected: unexpected.slice(0, 20),
    orderMismatches: orderMismatches.slice(0, 20),
    sentDuringFaults: duringCut.length,
    sentDuringFaultsMissing: duringCutMissing,
    deliveredAfterHeal: duringCut.length === 0 ? 'unknown' : duringCutMissing === 0,
    stableLatencyMs: quantiles(stable.map(s => s.latency)),
    stableLatencyDuringFaultsMs: quantiles(stable.filter(s => duringFault(s.sent)).map(s => s.latency)),
    stableLatencyOutsideFaultsMs: quantiles(stable.filter(s => !duringFault(s.sent)).map(s => s.latency))
  }
}

/** Nodes whose order of the messages they share with the first reader differs from its order. */
function orderDisagreements (sequences: Array<{ node: number, ids: string[] }>): string[] {
  if (sequences.length < 2) return []
  const [reference, ...others] = sequences
  const out: string[] = []
  for (const other of others) {
    const shared = new Set(other.ids.filter(id => reference.ids.includes(id)))
    const a = reference.ids.filter(id => shared.has(id))
    const b = other.ids.filter(id => shared.has(id))
    const at = a.findIndex((id, i) => b[i] !== id)
    if (at >= 0) out.push(`n${other.node} orders ${b[at]} where n${reference.node} has ${a[at]} (position ${at})`)
  }
  return out
}
