/**
 * The retry records a workspace keeps out of memory (RetryRecordStore), in one SQLite file of this
 * process (DATA_DIR/retry-records.sqlite), whichever event store is in use: one row per stream and
 * idempotency key with the spend as the domain encodes it, one row per stream and hold id with the
 * closed hold as the domain encodes it, and one mark per stream saying from which log and up to
 * which event its rows were taken.
 *
 * Like the snapshots, a cache: losing the file costs the workspaces that had spends in it one fold
 * of their stream from its start (their snapshots need the rows, see StateSnapshot
 * .retryRecordsThrough), nothing else. So it is written with synchronous = NORMAL: a power loss may
 * take its last transactions, never leave it half written, and the marks tell what it lacks.
 *
 * Every spend whose key is not in memory is looked up here, by primary key, on the command side's
 * thread: about 5 µs with the pages cached; so is every hold a command names that is not in memory
 * (by id, or by reserve key through an index). The page cache is 8 MiB.
 */
import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import type { RetryRecordMark, RetryRecordStore, StoredHold, StoredSpend } from './port';
import { makeDirectory } from '../make-directory';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS retry_records (
    stream      TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    consumed_at INTEGER NOT NULL,
    line        TEXT    NOT NULL,
    PRIMARY KEY (stream, key)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS retry_records_by_age ON retry_records (consumed_at);
  CREATE TABLE IF NOT EXISTS retry_closed_holds (
    stream    TEXT    NOT NULL,
    key       TEXT    NOT NULL,
    hold_id   TEXT    NOT NULL,
    closed_at INTEGER NOT NULL,
    line      TEXT    NOT NULL,
    PRIMARY KEY (stream, key)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS retry_closed_holds_by_id ON retry_closed_holds (stream, hold_id);
  CREATE INDEX IF NOT EXISTS retry_closed_holds_by_age ON retry_closed_holds (closed_at);
  CREATE TABLE IF NOT EXISTS retry_record_marks (
    stream   TEXT PRIMARY KEY,
    log      TEXT NOT NULL,
    revision TEXT NOT NULL,
    event_id TEXT NOT NULL
  ) WITHOUT ROWID;
`;

export function openSqliteRetryRecords(file: string): RetryRecordStore {
  makeDirectory(dirname(file));
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.pragma('cache_size = -8192');
    // Records arrive in batches of random keys, each dirtying a page per record: checkpointing the
    // WAL into the file every 64 MiB rather than every 4 MiB (each checkpoint an fsync) stops most
    // batches from also paying for a checkpoint.
    db.pragma('wal_autocheckpoint = 16384');
    db.exec(SCHEMA);
  } catch (error) {
    db.close();
    throw new Error(`${file} cannot be used for retry records: ${(error as Error).message}`, { cause: error });
  }
  const selectMark = db.prepare<[string], { log: string; revision: string; event_id: string }>(
    'SELECT log, revision, event_id FROM retry_record_marks WHERE stream = ?',
  );
  const upsertMark = db.prepare<[string, string, string, string]>(
    `INSERT INTO retry_record_marks (stream, log, revision, event_id) VALUES (?, ?, ?, ?)
     ON CONFLICT (stream) DO UPDATE SET log = excluded.log, revision = excluded.revision, event_id = excluded.event_id`,
  );
  // A key used again after the retention window has a newer spend: the newest one stays.
  const upsertSpend = db.prepare<[string, string, number, string]>(
    `INSERT INTO retry_records (stream, key, consumed_at, line) VALUES (?, ?, ?, ?)
     ON CONFLICT (stream, key) DO UPDATE SET consumed_at = excluded.consumed_at, line = excluded.line
     WHERE excluded.consumed_at >= retry_records.consumed_at`,
  );
  const selectSpend = db.prepare<[string, string], { consumed_at: number; line: string }>(
    'SELECT consumed_at, line FROM retry_records WHERE stream = ? AND key = ?',
  );
  // Keyed by the reserve key, which every new reserve looks up (a hold's id is asked for only when a
  // command names a closed hold): a key used again after the retention window keeps its newest hold.
  const upsertHold = db.prepare<[string, string, string, number, string]>(
    `INSERT INTO retry_closed_holds (stream, key, hold_id, closed_at, line) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (stream, key) DO UPDATE SET hold_id = excluded.hold_id, closed_at = excluded.closed_at, line = excluded.line
     WHERE excluded.closed_at >= retry_closed_holds.closed_at`,
  );
  type HoldRow = { hold_id: string; key: string; closed_at: number; line: string };
  const selectHold = db.prepare<[string, string], HoldRow>(
    'SELECT hold_id, key, closed_at, line FROM retry_closed_holds WHERE stream = ? AND hold_id = ?',
  );
  const selectHoldWithKey = db.prepare<[string, string], HoldRow>(
    'SELECT hold_id, key, closed_at, line FROM retry_closed_holds WHERE stream = ? AND key = ?',
  );
  const deleteStream = db.prepare<[string]>('DELETE FROM retry_records WHERE stream = ?');
  const deleteStreamHolds = db.prepare<[string]>('DELETE FROM retry_closed_holds WHERE stream = ?');
  const deleteMark = db.prepare<[string]>('DELETE FROM retry_record_marks WHERE stream = ?');
  const deleteOld = db.prepare<[number, number]>(
    `DELETE FROM retry_records WHERE (stream, key) IN
       (SELECT stream, key FROM retry_records WHERE consumed_at < ? ORDER BY consumed_at LIMIT ?)`,
  );
  const deleteOldHolds = db.prepare<[number, number]>(
    `DELETE FROM retry_closed_holds WHERE (stream, key) IN
       (SELECT stream, key FROM retry_closed_holds WHERE closed_at < ? ORDER BY closed_at LIMIT ?)`,
  );
  const storedHold = (row: HoldRow | undefined): StoredHold | undefined =>
    row && { holdId: row.hold_id, idempotencyKey: row.key, closedAt: row.closed_at, line: row.line };
  const forgetBefore = db.transaction(
    (cutoff: number, atMost: number) =>
      deleteOld.run(cutoff, atMost).changes + deleteOldHolds.run(cutoff, atMost).changes,
  );
  const keep = db.transaction(
    (
      stream: string,
      { spends, holds }: { spends: readonly StoredSpend[]; holds: readonly StoredHold[] },
      mark: RetryRecordMark,
    ) => {
      for (const spend of spends) upsertSpend.run(stream, spend.idempotencyKey, spend.consumedAt, spend.line);
      for (const hold of holds) upsertHold.run(stream, hold.idempotencyKey, hold.holdId, hold.closedAt, hold.line);
      upsertMark.run(stream, mark.log, mark.revision.toString(), mark.eventId);
    },
  );
  const forget = db.transaction((stream: string) => {
    deleteStream.run(stream);
    deleteStreamHolds.run(stream);
    deleteMark.run(stream);
  });

  return {
    mark(stream) {
      const row = selectMark.get(stream);
      return row && { log: row.log, revision: BigInt(row.revision), eventId: row.event_id };
    },
    keep(stream, records, mark) {
      keep(stream, records, mark);
    },
    find(stream, idempotencyKey) {
      const row = selectSpend.get(stream, idempotencyKey);
      return row && { idempotencyKey, consumedAt: row.consumed_at, line: row.line };
    },
    findHold(stream, holdId) {
      return storedHold(selectHold.get(stream, holdId));
    },
    findHoldWithKey(stream, idempotencyKey) {
      return storedHold(selectHoldWithKey.get(stream, idempotencyKey));
    },
    forget(stream) {
      forget(stream);
    },
    forgetBefore(cutoff, atMost) {
      return forgetBefore(cutoff, atMost);
    },
    close() {
      db.close();
    },
  };
}
