/**
 * The embedded EventStore: one SQLite file (better-sqlite3) holding the whole log in one table.
 *
 * Durability: WAL with synchronous = FULL, so the WAL is fsynced at every commit and an append that
 * has resolved survives kill -9 and power loss.
 *
 * Several processes may open the same file. Appends run in BEGIN IMMEDIATE transactions, which
 * take SQLite's single write lock before reading the stream's revision, so the revision check and
 * the insert cannot interleave with another writer. Because writers are serialised and positions
 * come from AUTOINCREMENT inside that lock, a reader never sees position p and later discovers a
 * smaller one: the property the polling subscription needs for exactly-once delivery.
 *
 * better-sqlite3 is synchronous, so every call blocks the event loop for its (short) duration, and
 * for up to busy_timeout when another process holds the write lock.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { newId } from '../../ids';
import { AppendSignal, PollingSubscription } from '../polling-subscription';
import {
  ExpectedRevisionConflict,
  isExpectedRevisionConflict,
  matchesExpectedRevision,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type LogSubscription,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeToAllOptions,
} from '../port';

export interface SqliteEventStoreOptions {
  /** Path of the database file; its directory is created when missing. */
  file: string;
  /** How often an idle subscription looks for appends made by other processes; default 250. */
  pollIntervalMs?: number;
}

const PAGE_SIZE = 1000;
const BUSY_TIMEOUT_MS = 5000;
/** SQLite reads a negative LIMIT as "no limit". */
const NO_LIMIT = -1;

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
];

/** A row of the events table in COLUMNS order, read as an array: cheaper than an object per row. */
type EventRow = [
  position: bigint,
  eventId: string,
  streamName: string,
  streamRevision: bigint,
  eventType: string,
  schemaVersion: bigint,
  data: string,
  metadata: string,
  recordedAt: string,
];

type InsertParams = [string, string, bigint, string, number, string, string, string];

type StreamHead = { stream_revision: bigint; position: bigint };

type AppendOutcome = { ok: AppendResult } | { error: unknown };

interface QueuedAppend {
  stream: string;
  rows: InsertParams[];
  expected: ExpectedRevision;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

const COLUMNS =
  'position, event_id, stream_name, stream_revision, event_type, schema_version, data, metadata, recorded_at';

export function openSqliteEventStore(options: SqliteEventStoreOptions): SqliteEventStore {
  return new SqliteEventStore(options);
}

export class SqliteEventStore implements EventStore {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly pollIntervalMs: number;
  private readonly appended = new AppendSignal();
  private readonly subscriptions = new Set<PollingSubscription>();
  private closed = false;

  private readonly selectStreamHead;
  private readonly selectStreamPage;
  private readonly selectAllPage;
  private readonly selectHeadPosition;
  private readonly insertEvent;
  private readonly appendInSavepoint;
  private readonly commitGroupInSavepoints;
  private readonly commitGroupDirectly;
  private queuedAppends: QueuedAppend[] = [];

  /** Prefer openSqliteEventStore. */
  constructor(options: SqliteEventStoreOptions) {
    this.file = options.file;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.db = openEventsDatabase(options.file);

    // Served by the UNIQUE(stream_name, stream_revision) index.
    this.selectStreamHead = this.db.prepare<[string], StreamHead>(
      'SELECT stream_revision, position FROM events WHERE stream_name = ? ORDER BY stream_revision DESC LIMIT 1',
    );
    this.selectStreamPage = this.db
      .prepare<[string, bigint, number], EventRow>(
        `SELECT ${COLUMNS} FROM events WHERE stream_name = ? AND stream_revision >= ? ORDER BY stream_revision LIMIT ?`,
      )
      .raw(true);
    this.selectAllPage = this.db
      .prepare<[bigint, number], EventRow>(`SELECT ${COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?`)
      .raw(true);
    this.selectHeadPosition = this.db.prepare<[], { head: bigint | null }>('SELECT max(position) AS head FROM events');
    this.insertEvent = this.db.prepare<InsertParams>(
      `INSERT INTO events (event_id, stream_name, stream_revision, event_type, schema_version, data, metadata, recorded_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // The careful path: each append in a savepoint of its own, so that one append's failure (a
    // duplicate event id, a revision another process took) never affects another's.
    this.appendInSavepoint = this.db.transaction(
      (stream: string, rows: InsertParams[], expected: ExpectedRevision): AppendResult =>
        this.insertAfterHead(stream, rows, expected, this.selectStreamHead.get(stream)),
    );
    this.commitGroupInSavepoints = this.db.transaction((queued: QueuedAppend[], outcomes: AppendOutcome[]) => {
      for (const append of queued) {
        try {
          outcomes.push({ ok: this.appendInSavepoint(append.stream, append.rows, append.expected) });
        } catch (error) {
          outcomes.push({
            error: isStreamRevisionCollision(error)
              ? new ExpectedRevisionConflict(append.stream, append.expected, undefined)
              : error,
          });
        }
      }
    });
    // The usual path: every revision is checked before anything of its append is written, against the
    // stream's head as read inside this transaction and moved on by the appends before it, so a
    // conflict needs no savepoint to undo. Anything else that fails rolls the whole group back, and
    // it is committed again the careful way.
    this.commitGroupDirectly = this.db.transaction((queued: QueuedAppend[], outcomes: AppendOutcome[]) => {
      const heads = new Map<string, StreamHead | undefined>();
      for (const append of queued) {
        const head = heads.has(append.stream) ? heads.get(append.stream) : this.selectStreamHead.get(append.stream);
        let result: AppendResult;
        try {
          result = this.insertAfterHead(append.stream, append.rows, append.expected, head);
        } catch (error) {
          if (!isExpectedRevisionConflict(error)) throw error;
          heads.set(append.stream, head);
          outcomes.push({ error });
          continue;
        }
        heads.set(
          append.stream,
          append.rows.length > 0 ? { stream_revision: result.nextExpectedRevision, position: result.position } : head,
        );
        outcomes.push({ ok: result });
      }
    });
  }

  /** Checks `expected` against the stream's head, then inserts `rows` after it. */
  private insertAfterHead(
    stream: string,
    rows: InsertParams[],
    expected: ExpectedRevision,
    head: StreamHead | undefined,
  ): AppendResult {
    const actual = head?.stream_revision;
    if (!matchesExpectedRevision(expected, actual)) throw new ExpectedRevisionConflict(stream, expected, actual);
    // An empty append changes nothing; it reports where the stream stands, -1n when absent.
    let result: AppendResult = { nextExpectedRevision: actual ?? -1n, position: head?.position ?? -1n };
    let revision = actual === undefined ? 0n : actual + 1n;
    for (const row of rows) {
      row[2] = revision;
      const { lastInsertRowid } = this.insertEvent.run(...row);
      result = { nextExpectedRevision: revision, position: BigInt(lastInsertRowid) };
      revision += 1n;
    }
    return result;
  }

  /**
   * Appending no events still checks the expected revision, then reports the stream's last revision
   * and that event's position, or -1n for both when the stream has no events.
   *
   * Group commit: appends requested in the same turn of the event loop are committed together in
   * one transaction (one fsync), each with its own revision check, so that one append's conflict
   * never affects another's. Each promise resolves only after that commit.
   */
  appendToStream(
    stream: string,
    events: NewEvent[],
    options: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    try {
      this.assertOpen();
      const recordedAt = new Date().toISOString();
      const rows = events.map((event): InsertParams => {
        const schemaVersion = event.schemaVersion ?? 1;
        if (!Number.isInteger(schemaVersion) || schemaVersion < 1) {
          throw new RangeError(`schemaVersion must be a positive integer, got ${schemaVersion}`);
        }
        return [
          event.id ?? newId(),
          stream,
          -1n, // the revision, assigned inside the transaction
          event.type,
          schemaVersion,
          JSON.stringify(event.data),
          JSON.stringify(event.metadata ?? {}),
          recordedAt,
        ];
      });
      return new Promise((resolve, reject) => {
        this.queuedAppends.push({ stream, rows, expected: options.expectedRevision, resolve, reject });
        if (this.queuedAppends.length === 1) setImmediate(() => this.commitQueuedAppends());
      });
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Commits every queued append in one transaction, then answers each. */
  private commitQueuedAppends(): void {
    const queued = this.queuedAppends;
    this.queuedAppends = [];
    if (this.closed) {
      for (const append of queued) append.reject(new Error('The event store is closed.'));
      return;
    }
    let outcomes: AppendOutcome[] = [];
    try {
      this.commitGroupDirectly.immediate(queued, outcomes);
    } catch {
      outcomes = [];
      try {
        this.commitGroupInSavepoints.immediate(queued, outcomes);
      } catch (error) {
        for (const append of queued) append.reject(error);
        return;
      }
    }
    let inserted = false;
    queued.forEach((append, index) => {
      const outcome = outcomes[index] as AppendOutcome;
      if ('ok' in outcome) {
        inserted ||= append.rows.length > 0;
        append.resolve(outcome.ok);
      } else {
        append.reject(outcome.error);
      }
    });
    if (inserted) this.appended.notify();
  }

  async *readStream(stream: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    this.assertOpen();
    let from = options.fromRevision ?? 0n;
    let remaining = options.maxCount ?? Infinity;
    assertCount(remaining);
    // A page at a time, so a long stream never sits in memory whole and the connection is never
    // held by an open cursor between pages (better-sqlite3 refuses writes while one is open).
    while (remaining > 0) {
      const limit = Math.min(PAGE_SIZE, remaining);
      const rows = this.selectStreamPage.all(stream, from, limit);
      for (const row of rows) yield toRecordedEvent(row);
      if (rows.length < limit) return;
      remaining -= rows.length;
      from = rows[rows.length - 1]![3] + 1n;
      this.assertOpen();
    }
  }

  async streamRevision(stream: string): Promise<bigint | undefined> {
    this.assertOpen();
    return this.selectStreamHead.get(stream)?.stream_revision;
  }

  /** Without maxCount, reads the whole rest of the log. */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const limit = options.maxCount ?? NO_LIMIT;
    if (options.maxCount !== undefined) assertCount(options.maxCount);
    return this.selectAllPage.all(options.after ?? 0n, limit).map(toRecordedEvent);
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): LogSubscription {
    this.assertOpen();
    const subscription: PollingSubscription = new PollingSubscription({
      after: options.after,
      readPage: (after, maxCount) => this.readAll({ after: after ?? 0n, maxCount }),
      signal: this.appended,
      pollIntervalMs: this.pollIntervalMs,
      pageSize: PAGE_SIZE,
      onClose: () => this.subscriptions.delete(subscription),
    });
    this.subscriptions.add(subscription);
    return subscription;
  }

  /**
   * Calls `listener` after every commit of this connection that appended events; returns the
   * function that stops it. With `wakeSubscriptions` on another connection to the same file (another
   * thread of the process), its subscriptions see an append at once instead of at their next poll.
   */
  onAppended(listener: () => void): () => void {
    return this.appended.listen(listener);
  }

  /** Tells this connection's subscriptions that the log may have grown (see onAppended). */
  wakeSubscriptions(): void {
    this.appended.notify();
  }

  async headPosition(): Promise<bigint | undefined> {
    this.assertOpen();
    return this.selectHeadPosition.get()?.head ?? undefined;
  }

  /** Ends every subscription (their pending reads finish as done), then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    // Appends already asked for are committed and answered, not dropped.
    if (this.queuedAppends.length > 0) this.commitQueuedAppends();
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`The event store on ${this.file} is closed`);
  }
}

/**
 * Opens (creating when missing) an event store file with the settings every connection to it uses:
 * WAL, synchronous = FULL, the schema migrated. The benchmark's ceiling opens its file with this too.
 */
export function openEventsDatabase(file: string): Database.Database {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const journalMode = db.pragma('journal_mode = WAL', { simple: true });
    if (journalMode !== 'wal') throw new Error(`SQLite refused WAL mode for ${file} (got ${String(journalMode)})`);
    db.pragma('synchronous = FULL');
    // Neither setting touches durability (every commit still fsyncs the WAL). A commit of a group of
    // appends dirties a page of the stream index per stream in it: a 64 MiB page cache keeps those
    // pages in memory, and checkpointing the WAL into the file every 64 MiB rather than every 4 MiB
    // stops nearly every such commit from also copying its pages into the database file.
    db.pragma('cache_size = -65536');
    db.pragma('wal_autocheckpoint = 16384');
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
  db.transaction(() => {
    const version = Number(db.pragma('user_version', { simple: true }));
    if (version > MIGRATIONS.length) {
      throw new Error(`${file} has schema version ${version}, newer than this release knows (${MIGRATIONS.length})`);
    }
    for (const migration of MIGRATIONS.slice(version)) db.exec(migration);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}

function toRecordedEvent(row: EventRow): RecordedEvent {
  const [position, id, streamName, revision, type, schemaVersion, data, metadata, recordedAt] = row;
  return {
    id,
    streamName,
    type,
    data: JSON.parse(data) as Record<string, unknown>,
    metadata: JSON.parse(metadata) as Record<string, unknown>,
    schemaVersion: Number(schemaVersion),
    revision,
    position,
    recordedAt: new Date(recordedAt),
  };
}

function isStreamRevisionCollision(error: unknown): boolean {
  return (
    error instanceof Database.SqliteError &&
    error.code === 'SQLITE_CONSTRAINT_UNIQUE' &&
    error.message.includes('events.stream_name, events.stream_revision')
  );
}

function assertCount(count: number): void {
  if (count !== Infinity && (!Number.isInteger(count) || count < 0)) {
    throw new RangeError(`maxCount must be a non-negative integer, got ${count}`);
  }
}
