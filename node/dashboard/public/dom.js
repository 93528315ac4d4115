// Small DOM helpers. Every string that came over the network goes in as text (textContent),
// never as HTML: a nick or a chat message cannot add markup or script to the page.

/** An element with a class, text and children; attributes through `attrs`. */
export function el (tag, { cls, text, title, attrs } = {}, children = []) {
  const node = document.createElement(tag)
  if (cls != null) node.className = cls
  if (text != null) node.textContent = String(text)
  if (title != null) node.title = String(title)
  for (const [name, value] of Object.entries(attrs ?? {})) node.setAttribute(name, String(value))
  for (const child of children) node.append(child)
  return node
}

/** Sets an element's text only when it changed: no layout work for what stays the same. */
export function setText (node, text) {
  const value = String(text)
  if (node.textContent !== value) node.textContent = value
}

/** The end of a peer id, as the CLI shows it. */
export function shortId (id) {
  return `…${String(id).slice(-6)}`
}

/** "3.2s ago", "4m ago". */
export function ago (ms) {
  if (ms == null || !Number.isFinite(ms)) return '-'
  const s = Math.max(0, ms) / 1000
  if (s < 60) return `${s.toFixed(1)}s ago`
  if (s < 3600) return `${Math.floor(s / 60)}m ago`
  return `${Math.floor(s / 3600)}h ago`
}

/** A local time of day, HH:MM:SS. */
export function clockTime (ms) {
  return new Date(ms).toLocaleTimeString([], { hour12: false })
}
