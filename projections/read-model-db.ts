/**
 * The read-model database: a SQLite file of its own beside the event store (or, with EventStoreDB,
 * local to each API replica). It holds only what can be rebuilt from the log, so it trades the
 * event store's fsync on every commit for speed (synchronous=NORMAL in WAL mode survives a crash of
 * the process; after a power loss the last commits roll back together with their checkpoint and are
 * projected again).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';

export function openReadModelDb(file: string): Database {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  // Projections write in large batches: a bigger page cache and fewer, larger WAL checkpoints keep
  // the B-tree pages of the ledger's indexes in memory between batches.
  db.pragma('cache_size = -65536');
  db.pragma('wal_autocheckpoint = 10000');
  db.exec(`CREATE TABLE IF NOT EXISTS projection_checkpoints (
    name TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    position TEXT,
    failure TEXT,
    log TEXT,
    event TEXT
  )`);
  // Files written before projections could fail alone have no failure column, those written before
  // read models recorded the identity of their log (EventStore.identity) no log column, and those
  // written before checkpoints named their event (JSON: id, stream, revision) no event column.
  const columns = db.prepare<[], { name: string }>('PRAGMA table_info(projection_checkpoints)').all();
  for (const column of ['failure', 'log', 'event']) {
    if (!columns.some((existing) => existing.name === column)) {
      db.exec(`ALTER TABLE projection_checkpoints ADD COLUMN ${column} TEXT`);
    }
  }
  return db;
}
