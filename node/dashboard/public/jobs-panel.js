import { el, shortId } from './dom.js'

/**
 * Jobs this node coordinates, newest first: the share counted, a bar per peer (the shards
 * each has delivered), the shards taken back from a lost peer and handed to another, and the
 * result. A job's block is rebuilt only when its data changed.
 */
export class JobsPanel {
  constructor (root, nickOf) {
    this.list = root.querySelector('#job-list')
    this.nickOf = nickOf
    this.blocks = new Map()
  }

  update (jobs) {
    if (jobs.length === 0) return
    const keep = new Set()
    const nodes = []
    for (const job of jobs) {
      keep.add(job.id)
      const key = JSON.stringify(job)
      let block = this.blocks.get(job.id)
      if (block == null || block.key !== key) {
        const node = this.render(job)
        block?.node.replaceWith(node)
        block = { key, node }
        this.blocks.set(job.id, block)
      }
      nodes.push(block.node)
    }
    for (const id of this.blocks.keys()) if (!keep.has(id)) this.blocks.delete(id)
    this.list.replaceChildren(...nodes)
  }

  render (job) {
    const live = job.live
    const report = job.result
    const fraction = job.state === 'done' ? 1 : Number(live?.fraction ?? job.progress ?? 0)
    const peers = report?.peers ?? live?.peers ?? []
    const shards = report?.shards ?? live?.doneShards ?? job.shardsDone ?? 0
    const reassigned = report?.reassigned ?? live?.reassigned ?? 0
    const retries = report?.retries ?? live?.retries ?? 0
    const seconds = report?.seconds ?? (live != null ? live.elapsedMs / 1000 : null)
    const head = el('div', { cls: 'job-head' }, [
      el('span', { cls: 'job-id', text: job.id }),
      el('span', { text: `primes in [${job.from}, ${job.to}]${job.verify ? ', verified' : ''}` }),
      el('span', { cls: 'job-state', text: job.state }),
      el('span', { cls: 'muted', text: `${Math.floor(fraction * 100)}% · ${shards}${live != null ? `/${live.cutShards}` : ''} shards${seconds != null ? ` · ${seconds.toFixed(1)} s` : ''}` }),
      el('span', { cls: 'job-reassigned', text: `${reassigned} reassigned · ${retries} retried` })
    ])
    const bars = el('div', { cls: 'peer-bars' })
    const most = Math.max(1, ...peers.map(p => p.shards))
    for (const p of peers) {
      bars.append(
        el('span', { text: this.nickOf(p.id) ?? shortId(p.id), title: p.id }),
        bar(p.shards / most),
        el('span', { cls: 'muted', text: `${p.shards} shards` })
      )
    }
    const children = [head, bar(fraction), bars]
    if (report != null) children.push(el('div', { cls: 'job-result', text: `${report.count} primes` }))
    if (job.error != null) children.push(el('div', { cls: 'error', text: job.error }))
    return el('div', { cls: 'job', attrs: { 'data-id': job.id, 'data-state': job.state } }, children)
  }
}

function bar (fraction) {
  const fill = el('span')
  fill.style.width = `${Math.max(0, Math.min(1, fraction)) * 100}%`
  return el('div', { cls: 'bar' }, [fill])
}
