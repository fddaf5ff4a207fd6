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
 * better-sqlite3 is synchronous. Reads run on the caller's thread and block its event loop for their
 * (short) duration; appends are committed on a thread of their own (append-thread.ts), which waits
 * there, for up to busy_timeout, when another process holds the write lock.
 */
import type Database from 'better-sqlite3';
import { newId } from '../../ids';
import { AppendSignal, PollingSubscription } from '../polling-subscription';
import { AppendThread } from './append-thread';
import { openEventsDatabase } from './database';
import type { InsertParams } from './group-commit';
import type {
  AppendResult,
  EventStore,
  ExpectedRevision,
  LogSubscription,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeToAllOptions,
} from '../port';

export interface SqliteEventStoreOptions {
  /** Path of the database file; its directory is created when missing. */
  file: string;
  /** How often an idle subscription looks for appends made by other processes; default 250. */
  pollIntervalMs?: number;
  /** Only reads: no append thread is started, and appends are refused. Default false. */
  readOnly?: boolean;
  /**
   * The most pages (of 4 KiB) the file may grow to, as a quota: appends past it are refused as a
   * full disk would refuse them (StoreUnavailable). Unlimited by default; the tests of a full disk use it.
   */
  maxPages?: number;
}

const PAGE_SIZE = 1000;
/** SQLite reads a negative LIMIT as "no limit". */
const NO_LIMIT = -1;

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
  private closing: Promise<void> | undefined;

  private readonly selectStreamHead;
  private readonly selectStreamPage;
  private readonly selectAllPage;
  private readonly selectHeadPosition;
  private readonly selectIdentity;
  private readonly appends: AppendThread | undefined;

  /** Prefer openSqliteEventStore. */
  constructor(options: SqliteEventStoreOptions) {
    this.file = options.file;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.db = openEventsDatabase(options.file);

    // Served by the UNIQUE(stream_name, stream_revision) index.
    this.selectStreamHead = this.db.prepare<[string], { stream_revision: bigint }>(
      'SELECT stream_revision FROM events WHERE stream_name = ? ORDER BY stream_revision DESC LIMIT 1',
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
    this.selectIdentity = this.db.prepare<[], { value: string }>(
      "SELECT value FROM store_metadata WHERE key = 'identity'",
    );
    this.appends = options.readOnly
      ? undefined
      : new AppendThread(options.file, () => this.appended.notify(), options.maxPages);
  }

  /**
   * Appending no events still checks the expected revision, then reports the stream's last revision
   * and that event's position, or -1n for both when the stream has no events.
   *
   * Group commit (see append-thread.ts and group-commit.ts): appends asked for together are
   * committed together in one transaction (one fsync) on the append thread, each with its own
   * revision check, so that one append's conflict never affects another's. Each promise resolves
   * only after that commit.
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
      if (!this.appends) throw new Error(`The event store on ${this.file} was opened read-only.`);
      if (this.closing) throw new Error(`The event store on ${this.file} is closing`);
      return this.appends.append({ stream, rows, expected: options.expectedRevision });
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
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

  /** Resolves once appends can be committed: the append thread has opened its connection. */
  ready(): Promise<void> {
    return this.appends?.ready() ?? Promise.resolve();
  }

  /**
   * Calls `listener` after every commit of this store's appends that appended events; returns the
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

  /** Made by the schema migration that created the file's metadata table (database.ts). */
  async identity(): Promise<string> {
    this.assertOpen();
    const row = this.selectIdentity.get();
    if (!row) throw new Error(`${this.file} has no identity in its store_metadata table`);
    return row.value;
  }

  /**
   * Refuses new appends, commits and answers those already asked for, then ends every subscription
   * (their pending reads finish as done) and closes the file.
   */
  async close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = (async () => {
      await this.appends?.close();
      this.closed = true;
      await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
      this.db.close();
    })();
    return this.closing;
  }

  /**
   * Why this store cannot append now, if it cannot: its append thread failed, or the database
   * refused a recent commit for a fault of the machine (a full disk) and none was committed since.
   */
  get appendFailure(): Error | undefined {
    return this.appends?.writeFailure;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`The event store on ${this.file} is closed`);
  }
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

function assertCount(count: number): void {
  if (count !== Infinity && (!Number.isInteger(count) || count < 0)) {
    throw new RangeError(`maxCount must be a non-negative integer, got ${count}`);
  }
}
