import type { MeshDatabase } from '../store/database.ts'

/** Results kept per home; older ones are dropped as new ones arrive. */
export const MAX_STORED_RESULTS = 10_000
/** `mesh task results` without --limit. */
export const DEFAULT_RESULTS_LIMIT = 50

export interface TaskResultRecord {
  id: number
  /** Unix ms when the task finished. */
  at: number
  kind: string
  op: string
  input: unknown
  ok: boolean
  result?: unknown
  error?: { name: string, message: string }
  /** The peer that answered (or the last one tried). */
  peer: string | null
  nick: string | null
  ms: number
}

const MIGRATIONS = [
  `CREATE TABLE task_results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    op TEXT NOT NULL,
    input TEXT NOT NULL,
    ok INTEGER NOT NULL,
    result TEXT,
    error TEXT,
    peer TEXT,
    nick TEXT,
    ms REAL NOT NULL
  )`
]

/** Results of the tasks submitted from this home, for `mesh task results` and the shell's /results. */
export class TaskStore {
  private readonly db: MeshDatabase

  constructor (db: MeshDatabase) {
    this.db = db
    db.migrate('tasks', MIGRATIONS)
  }

  record (entry: Omit<TaskResultRecord, 'id'>): number {
    const info = this.db.db.prepare(`INSERT INTO task_results (at, kind, op, input, ok, result, error, peer, nick, ms)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      entry.at, entry.kind, entry.op, JSON.stringify(entry.input) ?? 'null', entry.ok ? 1 : 0,
      entry.ok ? JSON.stringify(entry.result) ?? 'null' : null,
      entry.error != null ? JSON.stringify(entry.error) : null,
      entry.peer, entry.nick, entry.ms)
    const id = Number(info.lastInsertRowid)
    if (id > MAX_STORED_RESULTS) this.db.db.prepare('DELETE FROM task_results WHERE id <= ?').run(id - MAX_STORED_RESULTS)
    return id
  }

  /** The newest `limit` results, newest first. */
  list (limit: number): TaskResultRecord[] {
    const rows = this.db.db.prepare('SELECT * FROM task_results ORDER BY id DESC LIMIT ?').all(limit) as any[]
    return rows.map(r => ({
      id: r.id,
      at: r.at,
      kind: r.kind,
      op: r.op,
      input: JSON.parse(r.input),
      ok: r.ok === 1,
      ...(r.result != null ? { result: JSON.parse(r.result) } : {}),
      ...(r.error != null ? { error: JSON.parse(r.error) } : {}),
      peer: r.peer,
      nick: r.nick,
      ms: r.ms
    }))
  }
}
