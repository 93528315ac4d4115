import { el } from './dom.js'

/* global d3 */

const COLOURS = { alive: '#2e9d4f', suspect: '#d49a00', dead: '#c8372d', left: '#8a8f98' }

/**
 * Who is connected to whom, laid out by d3-force on a canvas (one draw per animation frame,
 * whatever the number of members). An edge is solid when both ends report it, dashed when
 * only one does (the other has not answered, or has not noticed yet). "View from" shows one
 * node's connections only. The simulation restarts only when nodes or edges change; state
 * changes just repaint.
 */
export class GraphPanel {
  constructor (root) {
    this.canvas = root.querySelector('#graph-canvas')
    this.select = root.querySelector('#graph-view')
    this.nodes = new Map()
    this.links = []
    this.topology = ''
    this.viewFrom = ''
    this.selfId = null
    this.graph = {}
    this.pending = false
    this.select.addEventListener('change', () => { this.viewFrom = this.select.value; this.requestDraw() })
    this.simulation = d3.forceSimulation()
      .force('link', d3.forceLink().id(d => d.id).distance(80))
      .force('charge', d3.forceManyBody().strength(-160))
      .force('collide', d3.forceCollide(16))
      .force('x', d3.forceX(0).strength(0.05))
      .force('y', d3.forceY(0).strength(0.05))
      .alphaDecay(0.05)
      .on('tick', () => { this.requestDraw() })
    new ResizeObserver(() => { this.resize() }).observe(this.canvas)
    this.resize()
  }

  setGraph (graph) {
    this.graph = graph ?? {}
  }

  update (members, selfId) {
    this.selfId = selfId
    const ids = new Set(members.map(m => m.id))
    for (const m of members) {
      const node = this.nodes.get(m.id)
      if (node == null) this.nodes.set(m.id, { id: m.id, nick: m.nick, state: m.state })
      else { node.nick = m.nick; node.state = m.state }
    }
    for (const id of this.nodes.keys()) if (!ids.has(id)) this.nodes.delete(id)
    const pairs = new Map()
    for (const [from, peers] of Object.entries(this.graph)) {
      if (!ids.has(from)) continue
      for (const to of peers) {
        if (!ids.has(to) || to === from) continue
        const [a, b] = from < to ? [from, to] : [to, from]
        const key = `${a} ${b}`
        const pair = pairs.get(key) ?? { source: a, target: b, seenBy: new Set() }
        pair.seenBy.add(from)
        pairs.set(key, pair)
      }
    }
    const topology = [...this.nodes.keys()].sort().join(',') + '|' + [...pairs.keys()].sort().join(',')
    if (topology !== this.topology) {
      this.topology = topology
      this.links = [...pairs.values()]
      this.simulation.nodes([...this.nodes.values()])
      this.simulation.force('link').links(this.links)
      this.simulation.alpha(0.6).restart()
    } else {
      // Same edges: keep the simulation's link objects, refresh who reports each.
      for (const link of this.links) {
        const a = typeof link.source === 'object' ? link.source.id : link.source
        const b = typeof link.target === 'object' ? link.target.id : link.target
        link.seenBy = pairs.get(`${a} ${b}`)?.seenBy ?? link.seenBy
      }
    }
    // What is drawn, readable without reading pixels: edges, and how many nodes' own views made them.
    this.canvas.dataset.edges = String(this.links.length)
    this.canvas.dataset.views = String(Object.keys(this.graph).filter(id => ids.has(id)).length)
    this.updateSelect(members)
    this.requestDraw()
  }

  updateSelect (members) {
    const key = members.map(m => `${m.id}:${m.nick}`).join(',')
    if (key === this.selectKey) return
    this.selectKey = key
    const options = [el('option', { text: 'every node', attrs: { value: '' } })]
    for (const m of [...members].sort((a, b) => a.nick.localeCompare(b.nick))) options.push(el('option', { text: m.nick, attrs: { value: m.id } }))
    this.select.replaceChildren(...options)
    this.select.value = this.viewFrom
  }

  resize () {
    const ratio = window.devicePixelRatio || 1
    this.canvas.width = Math.max(1, Math.round(this.canvas.clientWidth * ratio))
    this.canvas.height = Math.max(1, Math.round(this.canvas.clientHeight * ratio))
    this.requestDraw()
  }

  requestDraw () {
    if (this.pending) return
    this.pending = true
    requestAnimationFrame(() => { this.pending = false; this.draw() })
  }

  draw () {
    const ctx = this.canvas.getContext('2d')
    const ratio = window.devicePixelRatio || 1
    const w = this.canvas.width / ratio
    const h = this.canvas.height / ratio
    ctx.setTransform(ratio, 0, 0, ratio, w * ratio / 2, h * ratio / 2)
    ctx.clearRect(-w / 2, -h / 2, w, h)
    // Fit the layout in the canvas.
    let extent = 1
    for (const n of this.nodes.values()) extent = Math.max(extent, Math.abs(n.x ?? 0) / (w / 2 - 30), Math.abs(n.y ?? 0) / (h / 2 - 20))
    const scale = 1 / extent
    const view = this.viewFrom
    for (const link of this.links) {
      if (typeof link.source !== 'object') continue
      const inView = view === '' || link.seenBy.has(view)
      ctx.strokeStyle = inView ? '#6b7280' : '#e3e6ea'
      ctx.lineWidth = inView && view !== '' ? 2 : 1
      ctx.setLineDash(view === '' && link.seenBy.size < 2 ? [4, 4] : [])
      ctx.beginPath()
      ctx.moveTo(link.source.x * scale, link.source.y * scale)
      ctx.lineTo(link.target.x * scale, link.target.y * scale)
      ctx.stroke()
    }
    ctx.setLineDash([])
    ctx.font = '12px system-ui, sans-serif'
    ctx.textAlign = 'center'
    for (const n of this.nodes.values()) {
      const x = (n.x ?? 0) * scale
      const y = (n.y ?? 0) * scale
      ctx.globalAlpha = n.state === 'dead' || n.state === 'left' ? 0.45 : 1
      ctx.fillStyle = COLOURS[n.state] ?? '#888'
      ctx.beginPath()
      ctx.arc(x, y, n.id === this.selfId || n.id === view ? 9 : 7, 0, 2 * Math.PI)
      ctx.fill()
      ctx.fillStyle = '#1d2330'
      // fillText draws the nick as pixels: nothing a peer names can become markup.
      ctx.fillText(n.nick, x, y - 12)
    }
    ctx.globalAlpha = 1
  }
}
