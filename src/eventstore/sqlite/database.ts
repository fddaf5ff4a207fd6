/**
 * The embedded event store's SQLite file: its schema and migrations, and the settings every
 * connection to it opens with.
 */
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { makeDirectory } from '../../make-directory';

export const BUSY_TIMEOUT_MS = 5000;

/**
 * Schema migrations, applied in order; PRAGMA user_version records how many have run. Never edit
 * one that has shipped: append a new one.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS events (
     position        INTEGER PRIMARY KEY AUTOINCREMENT,
     event_id        TEXT    NOT NULL UNIQUE,
     stream_name     TEXT    NOT NULL,
     stream_revision INTEGER NOT NULL,
     event_type      TEXT    NOT NULL,
     schema_version  INTEGER NOT NULL DEFAULT 1,
     data            TEXT    NOT NULL,
     metadata        TEXT    NOT NULL,
     recorded_at     TEXT    NOT NULL,
     UNIQUE (stream_name, stream_revision)
   )`,
  // The log's identity (see EventStore.identity), made here once: a file created afresh, even at the
  // same path, gets another.
  `CREATE TABLE IF NOT EXISTS store_metadata (
     key   TEXT PRIMARY KEY,
     value TEXT NOT NULL
   );
   INSERT INTO store_metadata (key, value) VALUES
     ('identity', lower(hex(randomblob(16)))),
     ('identity_created_at', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`,
];

/**
 * Opens (creating when missing) an event store file with the settings every connection to it uses:
 * WAL, synchronous = FULL, the schema migrated. The connection that appends (the append thread's,
 * and the benchmark's ceiling) also gets `forAppends`.
 */
export function openEventsDatabase(file: string, options: { forAppends?: boolean } = {}): Database.Database {
  makeDirectory(dirname(file));
  const db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const journalMode = db.pragma('journal_mode = WAL', { simple: true });
    if (journalMode !== 'wal') throw new Error(`SQLite refused WAL mode for ${file} (got ${String(journalMode)})`);
    db.pragma('synchronous = FULL');
    if (options.forAppends) {
      // Neither setting touches durability (every commit still fsyncs the WAL). A commit of a group
      // of appends dirties a page of the stream index per stream in it: a 64 MiB page cache keeps
      // those pages in memory, and checkpointing the WAL into the file every 64 MiB rather than
      // every 4 MiB stops nearly every such commit from also copying its pages into the file.
      db.pragma('cache_size = -65536');
      db.pragma('wal_autocheckpoint = 16384');
    }
    // Positions and revisions can outgrow 2^53: read every integer as a bigint.
    db.defaultSafeIntegers(true);
    migrate(db, file);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

function migrate(db: Database.Database, file: string): void {
  // Up to date, as nearly always: no need for the write lock (a reader may be on a read-only mount).
  if (Number(db.pragma('user_version', { simple: true })) === MIGRATIONS.length) return;
  db.transaction(() => {
    const version = Number(db.pragma('user_version', { simple: true }));
    if (version > MIGRATIONS.length) {
      throw new Error(`${file} has schema version ${version}, newer than this release knows (${MIGRATIONS.length})`);
    }
    for (const migration of MIGRATIONS.slice(version)) db.exec(migration);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}
