/* global uPlot */

/** The charts' window: the last five minutes (the node keeps ten minutes of one-second samples). */
const WINDOW_S = 300
const MAX_EVENTS = 1000
const STATES = ['alive', 'suspect', 'dead', 'left']
const COLOURS = { alive: '#2e9d4f', suspect: '#d49a00', dead: '#c8372d', left: '#8a8f98' }

/**
 * Gateway and rpc throughput and latency, one sample a second from the node, and the
 * membership events on the same time axis. Redrawn at most once a second, in one animation
 * frame, however many events arrive.
 */
export class ChartsPanel {
  constructor (root) {
    this.root = root
    this.samples = []
    this.events = []
    this.dirty = false
    const width = this.width()
    const line = (label, stroke) => ({ label, stroke, width: 2, spanGaps: false })
    // Times of day on the x axis, HH:MM:SS: the window is minutes, the date adds nothing.
    const timeAxis = { space: 70, values: (_u, ticks) => ticks.map(t => new Date(t * 1000).toLocaleTimeString([], { hour12: false })) }
    this.throughput = new uPlot({
      title: 'requests per second', width, height: 150, scales: { x: { time: true } }, axes: [timeAxis, {}],
      series: [{}, line('gateway', '#3b6fd8'), line('rpc served', '#2e9d4f'), line('rpc calls made', '#9b59b6')]
    }, [[], [], [], []], root.querySelector('#chart-throughput'))
    this.latency = new uPlot({
      title: 'mean latency (ms)', width, height: 150, scales: { x: { time: true } }, axes: [timeAxis, {}],
      // Points as well as lines: a latency exists only in the seconds that had requests.
      series: [{}, { ...line('gateway', '#3b6fd8'), points: { show: true, size: 4 } }, { ...line('rpc served', '#2e9d4f'), points: { show: true, size: 4 } }]
    }, [[], [], []], root.querySelector('#chart-latency'))
    this.members = new uPlot({
      title: 'membership events', width, height: 130,
      scales: { x: { time: true }, y: { range: [0.5, 4.5] } },
      axes: [timeAxis, { size: 64, splits: () => [1, 2, 3, 4], values: (_u, ticks) => ticks.map(t => STATES[t - 1] ?? '') }],
      series: [{}, ...STATES.map(s => ({ label: s, stroke: COLOURS[s], fill: COLOURS[s], paths: () => null, points: { show: true, size: 9, fill: COLOURS[s] } }))]
    }, [[], [], [], [], []], root.querySelector('#chart-members'))
    new ResizeObserver(() => {
      const w = this.width()
      for (const chart of [this.throughput, this.latency, this.members]) chart.setSize({ width: w, height: chart.height })
    }).observe(root)
    setInterval(() => { if (this.dirty) { this.dirty = false; requestAnimationFrame(() => { this.draw() }) } }, 1000)
  }

  width () {
    return Math.max(300, this.root.clientWidth - 24)
  }

  setSamples (samples) {
    this.samples = samples.slice(-WINDOW_S)
    this.dirty = true
  }

  addSample (sample) {
    this.samples.push(sample)
    if (this.samples.length > WINDOW_S) this.samples.shift()
    this.dirty = true
  }

  setEvents (events) {
    this.events = events.slice(-MAX_EVENTS)
    this.dirty = true
  }

  addEvent (event) {
    this.events.push(event)
    if (this.events.length > MAX_EVENTS) this.events.shift()
    this.dirty = true
  }

  draw () {
    const s = this.samples
    const x = s.map(p => p.t / 1000)
    // The window ends at the newest thing known: a sample, or an event since the last one.
    const now = Math.max(s.at(-1)?.t ?? 0, this.events.at(-1)?.at ?? 0) / 1000 || Date.now() / 1000
    const range = { min: now - WINDOW_S, max: now }
    this.throughput.setData([x, s.map(p => p.gatewayRps), s.map(p => p.rpcRps), s.map(p => p.rpcCallsRps)], false)
    this.latency.setData([x, s.map(p => p.gatewayMs), s.map(p => p.rpcMs)], false)
    const events = this.events.filter(e => e.at / 1000 >= range.min)
    this.members.setData([events.map(e => e.at / 1000), ...STATES.map((state, i) => events.map(e => e.to === state ? i + 1 : null))], false)
    for (const chart of [this.throughput, this.latency, this.members]) chart.setScale('x', range)
    // What is drawn, readable without reading pixels (the browser test waits on these).
    this.root.querySelector('#chart-throughput').dataset.gatewaySeconds = String(s.filter(p => p.gatewayRps > 0).length)
    this.root.querySelector('#chart-members').dataset.dead = String(events.filter(e => e.to === 'dead').length)
  }
}
