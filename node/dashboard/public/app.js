import { ChartsPanel } from './charts-panel.js'
import { ChatPanel } from './chat-panel.js'
import { setText } from './dom.js'
import { openFeed } from './feed.js'
import { GraphPanel } from './graph-panel.js'
import { JobsPanel } from './jobs-panel.js'
import { MembersPanel } from './members-panel.js'

// The page's state is the node's, as the feed last said it; every panel redraws from it.
const state = { self: null, members: new Map(), rooms: [] }

const $ = id => document.getElementById(id)
const members = new MembersPanel($('members'))
const chat = new ChatPanel($('chat'))
const jobs = new JobsPanel($('jobs'), id => state.members.get(id)?.nick)
const graph = new GraphPanel($('graph'))
const charts = new ChartsPanel($('charts'))
const status = $('feed-status')

// The node's clock, as last heard: member ages stay right between two ticks.
let offset = 0
const now = () => Date.now() + offset

/**
 * Member changes arrive one by one (ten a second when a mesh is unsettled); the panels that
 * show members are redrawn from the state at most every RENDER_MS, not once per event.
 */
const RENDER_MS = 500
let renderTimer = null
function scheduleMembers () {
  if (renderTimer != null) return
  renderTimer = setTimeout(() => { renderTimer = null; showMembers() }, RENDER_MS)
}

function showMembers () {
  const list = [...state.members.values()]
  members.update(list, state.self, now())
  graph.update(list, state.self)
  chat.setDirectory(state.rooms, list, state.self)
  const self = state.members.get(state.self)
  if (self != null) {
    setText($('self-name'), `${self.nick} · ${self.id}`)
    document.title = `mesh · ${self.nick}`
  }
}

function setMembers (rows) {
  state.members = new Map(rows.map(m => [m.id, m]))
}

openFeed({
  snapshot: s => {
    offset = s.now - Date.now()
    state.self = s.self
    state.rooms = s.rooms
    setMembers(s.members)
    graph.setGraph(s.graph)
    showMembers()
    jobs.update(s.jobs)
    charts.setSamples(s.samples)
    charts.setEvents(s.memberEvents)
    chat.reload()
  },
  tick: t => {
    offset = t.now - Date.now()
    state.rooms = t.rooms
    setMembers(t.members)
    scheduleMembers()
    if (t.jobs != null) jobs.update(t.jobs)
    if (t.sample != null) charts.addSample(t.sample)
  },
  member: ({ event, member }) => {
    state.members.set(member.id, member)
    charts.addEvent(event)
    scheduleMembers()
  },
  chat: m => { chat.receive(m) },
  graph: ({ graph: g }) => {
    graph.setGraph(g)
    scheduleMembers()
  }
}, s => {
  status.dataset.status = s
  setText(status, s === 'live' ? 'live' : 'reconnecting…')
})
