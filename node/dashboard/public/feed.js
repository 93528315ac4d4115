// The node's live feed (server-sent events). EventSource reconnects by itself after a
// broken stream (the server asks for 2 s); a refused one (503: too many dashboards, or the
// node restarting) closes it for good, so this opens a new one with a growing delay. Every
// (re)connection starts with a snapshot, so nothing missed while away stays missing.

const MAX_RETRY_MS = 30_000

export function openFeed (handlers, onStatus) {
  let source
  let retryMs = 1000
  const connect = () => {
    source = new EventSource('/api/events')
    source.addEventListener('open', () => { retryMs = 1000; onStatus('live') })
    source.addEventListener('error', () => {
      if (source.readyState === EventSource.CLOSED) {
        onStatus('reconnecting')
        setTimeout(connect, retryMs)
        retryMs = Math.min(MAX_RETRY_MS, retryMs * 2)
      } else {
        onStatus('reconnecting')
      }
    })
    for (const [event, handler] of Object.entries(handlers)) {
      source.addEventListener(event, e => {
        let data
        try {
          data = JSON.parse(e.data)
        } catch {
          return
        }
        handler(data)
      })
    }
  }
  connect()
}

/** A POST of JSON to this node, as the API wants it; resolves with the answer or throws its error. */
export async function postJson (path, body) {
  const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const answer = await res.json().catch(() => ({}))
  if (!res.ok) throw new Error(answer.error ?? `${res.status} ${res.statusText}`)
  return answer
}

export async function getJson (path) {
  const res = await fetch(path)
  const answer = await res.json().catch(() => ({}))
  if (!res.ok) throw new Error(answer.error ?? `${res.status} ${res.statusText}`)
  return answer
}
