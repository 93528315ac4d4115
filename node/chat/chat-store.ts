import type { StatementSync } from 'node:sqlite'
import { MAX_DIGEST_SENDERS, MAX_SYNC_BATCH, MAX_SYNC_BATCH_BYTES, type ChatMessage, type Hlc } from '../../protocols/chat/index.ts'
import type { MeshDatabase } from '../store/database.ts'

/**
 * Chat tables in `<home>/mesh.db`:
 * - chat_messages: every message once (primary key: content id). `conversation` is the
 *   room, or `@<peer id>` of the other party for direct messages.
 * - chat_heads: per room and sender, the highest seq up to which we hold every message
 *   (`contiguous`): the anti-entropy digest, kept up to date on insert.
 * - chat_peers: the last nick seen per peer id, to resolve `mesh dm NICK` for a peer away
 *   (`seen_at`: when that nick was first seen from it).
 * - chat_rooms: rooms this node is in, rejoined after a restart.
 * - chat_outbox: direct messages not yet acknowledged by their recipient, and those it
 *   refused (`refused` holds its reason): kept as the record that they never arrived, and
 *   never sent again.
 */
const MIGRATIONS = [
  `CREATE TABLE chat_messages (
     id TEXT PRIMARY KEY, conversation TEXT NOT NULL, room TEXT NOT NULL, recipient TEXT,
     sender TEXT NOT NULL, nick TEXT NOT NULL, ts INTEGER NOT NULL, lc INTEGER NOT NULL,
     seq INTEGER NOT NULL, text TEXT NOT NULL, sig TEXT NOT NULL, received_at INTEGER NOT NULL);
   CREATE INDEX chat_messages_order ON chat_messages (conversation, ts, lc, id);
   CREATE INDEX chat_messages_sender_seq ON chat_messages (room, sender, seq);
   CREATE TABLE chat_heads (room TEXT NOT NULL, sender TEXT NOT NULL, contiguous INTEGER NOT NULL, PRIMARY KEY (room, sender));
   CREATE TABLE chat_peers (id TEXT PRIMARY KEY, nick TEXT NOT NULL, seen_at INTEGER NOT NULL);
   CREATE TABLE chat_rooms (room TEXT PRIMARY KEY, joined_at INTEGER NOT NULL);
   CREATE TABLE chat_outbox (id TEXT PRIMARY KEY, recipient TEXT NOT NULL, frame TEXT NOT NULL,
     created_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL);
   CREATE INDEX chat_outbox_recipient ON chat_outbox (recipient, created_at);`,
  'ALTER TABLE chat_outbox ADD COLUMN refused TEXT;'
]

/** A message as stored, with where it belongs and when it arrived here. */
export interface StoredMessage extends ChatMessage {
  conversation: string
  receivedAt: number
}

export interface OutboxEntry {
  id: string
  recipient: string
  frame: string
  attempts: number
}

/** Where a direct message stands: waiting for its recipient, refused by it, or (absent) delivered. */
export type OutboxState = 'waiting' | 'refused' | 'delivered'

export function dmConversation (otherPeer: string): string {
  return `@${otherPeer}`
}

export class ChatStore {
  private readonly db: MeshDatabase
  private readonly stmt: Record<string, StatementSync>
  /**
   * The nick last written to chat_peers per author: the row is written when it changes, not
   * for every message (a write per message was a tenth of the cost of storing one).
   */
  private readonly peerNicks = new Map<string, string>()

  constructor (db: MeshDatabase) {
    this.db = db
    db.migrate('chat', MIGRATIONS)
    const p = (sql: string): StatementSync => db.db.prepare(sql)
    this.stmt = {
      insert: p(`INSERT OR IGNORE INTO chat_messages (id, conversation, room, recipient, sender, nick, ts, lc, seq, text, sig, received_at)
                 VALUES (:id, :conversation, :room, :recipient, :sender, :nick, :ts, :lc, :seq, :text, :sig, :receivedAt)`),
      peer: p('INSERT INTO chat_peers (id, nick, seen_at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET nick = excluded.nick, seen_at = excluded.seen_at'),
      head: p('SELECT contiguous FROM chat_heads WHERE room = ? AND sender = ?'),
      setHead: p('INSERT INTO chat_heads (room, sender, contiguous) VALUES (?, ?, ?) ON CONFLICT (room, sender) DO UPDATE SET contiguous = excluded.contiguous'),
      hasSeq: p('SELECT 1 AS x FROM chat_messages WHERE room = ? AND sender = ? AND seq = ? LIMIT 1'),
      hasId: p('SELECT 1 AS x FROM chat_messages WHERE id = ? LIMIT 1'),
      nextHeld: p('SELECT MIN(seq) AS s FROM chat_messages WHERE room = ? AND sender = ? AND seq > ? AND recipient IS NULL'),
      heads: p('SELECT sender, contiguous FROM chat_heads WHERE room = ?'),
      headsAfter: p('SELECT sender, contiguous FROM chat_heads WHERE room = ? AND sender > ? ORDER BY sender LIMIT ?'),
      senders: p('SELECT DISTINCT sender FROM chat_messages WHERE room = ? AND recipient IS NULL AND sender > ? AND (? IS NULL OR sender <= ?)'),
      after: p('SELECT * FROM chat_messages WHERE room = ? AND sender = ? AND seq > ? AND recipient IS NULL ORDER BY seq LIMIT ?'),
      maxSeq: p('SELECT MAX(seq) AS s FROM chat_messages WHERE room = ? AND sender = ? AND recipient IS NULL'),
      maxOwn: p('SELECT ts, lc FROM chat_messages WHERE sender = ? ORDER BY ts DESC, lc DESC LIMIT 1'),
      history: p('SELECT * FROM chat_messages WHERE conversation = ? ORDER BY ts DESC, lc DESC, id DESC LIMIT ?'),
      count: p('SELECT COUNT(*) AS n FROM chat_messages WHERE conversation = ?'),
      knownPeers: p('SELECT id, nick FROM chat_peers'),
      rooms: p('SELECT room FROM chat_rooms ORDER BY joined_at, room'),
      join: p('INSERT OR IGNORE INTO chat_rooms (room, joined_at) VALUES (?, ?)'),
      leave: p('DELETE FROM chat_rooms WHERE room = ?'),
      queue: p('INSERT OR IGNORE INTO chat_outbox (id, recipient, frame, created_at, next_at) VALUES (?, ?, ?, ?, ?)'),
      queuedFor: p('SELECT id, recipient, frame, attempts FROM chat_outbox WHERE recipient = ? AND refused IS NULL ORDER BY created_at, id LIMIT ?'),
      due: p('SELECT DISTINCT recipient FROM chat_outbox WHERE next_at <= ? AND refused IS NULL'),
      retryLater: p('UPDATE chat_outbox SET attempts = attempts + 1, next_at = ? WHERE id = ?'),
      delivered: p('DELETE FROM chat_outbox WHERE id = ?'),
      refused: p('UPDATE chat_outbox SET refused = ? WHERE id = ?'),
      outboxState: p('SELECT refused FROM chat_outbox WHERE id = ?'),
      waiting: p('SELECT COUNT(*) AS n FROM chat_outbox WHERE refused IS NULL')
    }
  }

  /** Stores a message once; true when it was new. Keeps the sender's digest entry current. */
  insert (m: ChatMessage, conversation: string, receivedAt: number): boolean {
    return this.writing(() => this.insertOne(m, conversation, receivedAt))
  }

  /**
   * `insert` for many messages in one transaction (one commit, one WAL append): what gossip
   * delivered in one event-loop turn. For each, in order, true when it was new.
   */
  insertMany (entries: Array<{ message: ChatMessage, conversation: string, receivedAt: number }>): boolean[] {
    return this.writing(() => entries.map(e => this.insertOne(e.message, e.conversation, e.receivedAt)))
  }

  /** One transaction of inserts; rolled back, it leaves `peerNicks` unsure, so that is dropped. */
  private writing<T> (fn: () => T): T {
    try {
      return this.db.transaction(fn)
    } catch (err) {
      this.peerNicks.clear()
      throw err
    }
  }

  private insertOne (m: ChatMessage, conversation: string, receivedAt: number): boolean {
    const { changes } = this.stmt.insert.run({
      id: m.id, conversation, room: m.room, recipient: m.to, sender: m.from, nick: m.nick,
      ts: m.ts, lc: m.lc, seq: m.seq, text: m.text, sig: m.sig, receivedAt
    })
    if (changes === 0) return false
    if (this.peerNicks.get(m.from) !== m.nick) {
      this.stmt.peer.run(m.from, m.nick, receivedAt)
      this.peerNicks.set(m.from, m.nick)
    }
    if (m.to == null) this.advanceHead(m.room, m.from, m.seq)
    return true
  }

  /** Moves `contiguous` forward over every seq now held without a gap. */
  private advanceHead (room: string, sender: string, seq: number): void {
    const current = (this.stmt.head.get(room, sender) as { contiguous: number } | undefined)?.contiguous ?? 0
    if (seq !== current + 1) return
    let contiguous = seq
    while (this.stmt.hasSeq.get(room, sender, contiguous + 1) != null) contiguous++
    this.stmt.setHead.run(room, sender, contiguous)
  }

  /** Whether the message with this content id is stored. */
  has (id: string): boolean {
    return this.stmt.hasId.get(id) != null
  }

  /** The seq up to which `sender`'s messages in `room` are held without a gap (0: none). */
  head (room: string, sender: string): number {
    return (this.stmt.head.get(room, sender) as { contiguous: number } | undefined)?.contiguous ?? 0
  }

  /**
   * Gives up on the hole above `sender`'s head in `room`: the head jumps to the end of the
   * next run of messages held, so the digest stops asking for what nobody can send. A message
   * from the hole that turns up later is still stored.
   */
  skipGap (room: string, sender: string): number {
    return this.db.transaction(() => {
      const next = (this.stmt.nextHeld.get(room, sender, this.head(room, sender)) as { s: number | null }).s
      if (next == null) return this.head(room, sender)
      let contiguous = next
      while (this.stmt.hasSeq.get(room, sender, contiguous + 1) != null) contiguous++
      this.stmt.setHead.run(room, sender, contiguous)
      return contiguous
    })
  }

  /** The anti-entropy digest of a room: sender -> seq up to which we hold everything. */
  digest (room: string): Record<string, number> {
    const have: Record<string, number> = {}
    for (const row of this.stmt.heads.all(room) as Array<{ sender: string, contiguous: number }>) have[row.sender] = row.contiguous
    return have
  }

  /**
   * One page of the digest: the first `limit` senders after `after` in id order. `until` is
   * the last sender of the page when more follow, so the next page starts after it; absent
   * on the last page, which then covers every sender above `after`.
   */
  digestPage (room: string, after?: string, limit = MAX_DIGEST_SENDERS): { have: Record<string, number>, until?: string } {
    const rows = this.stmt.headsAfter.all(room, after ?? '', limit + 1) as Array<{ sender: string, contiguous: number }>
    const have: Record<string, number> = Object.create(null)
    for (const row of rows.slice(0, limit)) have[row.sender] = row.contiguous
    return rows.length > limit ? { have, until: rows[limit - 1].sender } : { have }
  }

  /**
   * What a peer with digest `have` lacks, bounded by count and bytes; `more` if cut short.
   * With `range`, only senders after `range.after` up to `range.until` count: the digest
   * is one page, and senders outside it are another page's business.
   */
  missing (room: string, have: Record<string, number>, maxCount = MAX_SYNC_BATCH, maxBytes = MAX_SYNC_BATCH_BYTES, range: { after?: string, until?: string } = {}): { messages: ChatMessage[], more: boolean } {
    const messages: ChatMessage[] = []
    let bytes = 0
    const until = range.until ?? null
    for (const { sender } of this.stmt.senders.all(room, range.after ?? '', until, until) as Array<{ sender: string }>) {
      const rows = this.stmt.after.all(room, sender, Object.hasOwn(have, sender) ? have[sender] : 0, maxCount - messages.length + 1) as any[]
      for (const row of rows) {
        const size = Buffer.byteLength(row.text) + 400
        if (messages.length >= maxCount || bytes + size > maxBytes) return { messages, more: true }
        messages.push(fromRow(row))
        bytes += size
      }
    }
    return { messages, more: false }
  }

  /** The next seq for our own message in `room`: one above the highest we ever sent there. */
  nextSeq (room: string, self: string): number {
    return ((this.stmt.maxSeq.get(room, self) as { s: number | null }).s ?? 0) + 1
  }

  /** Our latest timestamp, so a restarted node's clock never issues an older one. */
  latestOwnHlc (self: string): Hlc | undefined {
    const row = this.stmt.maxOwn.get(self) as { ts: number, lc: number } | undefined
    return row == null ? undefined : { ts: row.ts, lc: row.lc }
  }

  /** The last `limit` messages of a conversation, oldest first, in display order. */
  history (conversation: string, limit: number): StoredMessage[] {
    return (this.stmt.history.all(conversation, limit) as any[]).map(fromRow).reverse()
  }

  count (conversation: string): number {
    return (this.stmt.count.get(conversation) as { n: number }).n
  }

  knownPeers (): Array<{ id: string, nick: string }> {
    return this.stmt.knownPeers.all() as Array<{ id: string, nick: string }>
  }

  rooms (): string[] {
    return (this.stmt.rooms.all() as Array<{ room: string }>).map(r => r.room)
  }

  joinRoom (room: string, now: number): void {
    this.stmt.join.run(room, now)
  }

  leaveRoom (room: string): void {
    this.stmt.leave.run(room)
  }

  queueDm (id: string, recipient: string, frame: string, now: number): void {
    this.stmt.queue.run(id, recipient, frame, now, now)
  }

  queuedFor (recipient: string, limit: number): OutboxEntry[] {
    return this.stmt.queuedFor.all(recipient, limit) as unknown as OutboxEntry[]
  }

  recipientsDue (now: number): string[] {
    return (this.stmt.due.all(now) as Array<{ recipient: string }>).map(r => r.recipient)
  }

  retryLater (id: string, at: number): void {
    this.stmt.retryLater.run(at, id)
  }

  markDelivered (id: string): void {
    this.stmt.delivered.run(id)
  }

  /** The recipient said no for good (`reason`): keep the record, stop sending it. */
  markRefused (id: string, reason: string): void {
    this.stmt.refused.run(reason, id)
  }

  outboxState (id: string): OutboxState {
    const row = this.stmt.outboxState.get(id) as { refused: string | null } | undefined
    return row == null ? 'delivered' : row.refused == null ? 'waiting' : 'refused'
  }

  /** Direct messages still waiting for their recipient (refused ones are not). */
  waitingCount (): number {
    return (this.stmt.waiting.get() as { n: number }).n
  }
}

function fromRow (row: any): StoredMessage {
  return {
    v: 1,
    id: row.id,
    room: row.room,
    to: row.recipient ?? null,
    from: row.sender,
    nick: row.nick,
    ts: row.ts,
    lc: row.lc,
    seq: row.seq,
    text: row.text,
    sig: row.sig,
    conversation: row.conversation,
    receivedAt: row.received_at
  }
}
