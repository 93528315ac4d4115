import { chmodSync, closeSync, openSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'

export const DATABASE_FILE = 'mesh.db'

/**
 * `<home>/mesh.db`: one SQLite file per node (node:sqlite, WAL) for chat history, the DM
 * outbox, the job journal and results. Each service owns its tables and brings its schema
 * as a list of migrations under its own name; `migrate` applies the ones not yet applied,
 * in order, each in a transaction, so a node upgraded in place keeps its data.
 */
export class MeshDatabase {
  readonly db: DatabaseSync

  constructor (home: string, file = DATABASE_FILE) {
    const path = join(home, file)
    // Chat history and DMs are private: the file is made 0600 before SQLite opens it (SQLite
    // gives its -wal and -shm files the database's mode), and an older, wider one tightened.
    closeSync(openSync(path, 'a', 0o600))
    chmodSync(path, 0o600)
    this.db = new DatabaseSync(path)
    this.db.exec('PRAGMA journal_mode = WAL')
    // NORMAL is durable across process crashes in WAL mode (only an OS crash can lose the
    // last transactions), and several times faster than FULL for small writes.
    this.db.exec('PRAGMA synchronous = NORMAL')
    this.db.exec('PRAGMA busy_timeout = 5000')
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (owner TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (owner, version))')
  }

  /** Applies `owner`'s migrations that have not run yet; migration i has version i + 1. */
  migrate (owner: string, migrations: string[]): void {
    const applied = this.db.prepare('SELECT MAX(version) AS v FROM schema_migrations WHERE owner = ?').get(owner) as { v: number | null }
    for (let version = (applied.v ?? 0) + 1; version <= migrations.length; version++) {
      this.transaction(() => {
        this.db.exec(migrations[version - 1])
        this.db.prepare('INSERT INTO schema_migrations (owner, version) VALUES (?, ?)').run(owner, version)
      })
    }
  }

  /** Runs `fn` in one transaction: all of it lands or none of it. */
  transaction<T> (fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE')
    try {
      const result = fn()
      this.db.exec('COMMIT')
      return result
    } catch (err) {
      this.db.exec('ROLLBACK')
      throw err
    }
  }

  close (): void {
    if (this.db.isOpen) this.db.close()
  }
}
