/**
 * Group commit on one SQLite connection: many appends, to any streams, in one transaction (one
 * fsync), each judged on its own expected revision. Runs on the append thread (append-thread.ts).
 *
 * The usual path checks every revision before anything of its append is written, against the
 * stream's head as read inside the transaction and moved on by the group's earlier appends, so a
 * conflict needs no savepoint to undo. A constraint one append breaks (a duplicate event id) rolls
 * the group back, and it is committed again with a savepoint per append, so that one append's
 * failure never affects another's; any other failure fails the group.
 */
import Database from 'better-sqlite3';
import {
  ExpectedRevisionConflict,
  isExpectedRevisionConflict,
  matchesExpectedRevision,
  type AppendResult,
  type ExpectedRevision,
} from '../port';

/** An events row as inserted: event_id, stream_name, stream_revision, event_type, schema_version, data, metadata, recorded_at. */
export type InsertParams = [string, string, bigint, string, number, string, string, string];

export interface AppendRequest {
  stream: string;
  rows: InsertParams[];
  expected: ExpectedRevision;
}

/** What became of one append, as plain data that crosses threads. */
export type AppendOutcome =
  | { ok: AppendResult }
  | { conflict: { stream: string; expected: ExpectedRevision; actual: bigint | undefined } }
  | { failed: { message: string; code: string | undefined } };

type StreamHead = { stream_revision: bigint; position: bigint };

/** Returns the function that commits a group; it throws only when the whole group failed. */
export function groupCommitter(db: Database.Database): (group: AppendRequest[]) => AppendOutcome[] {
  // Served by the UNIQUE(stream_name, stream_revision) index.
  const selectStreamHead = db.prepare<[string], StreamHead>(
    'SELECT stream_revision, position FROM events WHERE stream_name = ? ORDER BY stream_revision DESC LIMIT 1',
  );
  const insertEvent = db.prepare<InsertParams>(
    `INSERT INTO events (event_id, stream_name, stream_revision, event_type, schema_version, data, metadata, recorded_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );

  /** Checks `expected` against the stream's head, then inserts the rows after it. */
  const insertAfterHead = (append: AppendRequest, head: StreamHead | undefined): AppendResult => {
    const actual = head?.stream_revision;
    if (!matchesExpectedRevision(append.expected, actual)) {
      throw new ExpectedRevisionConflict(append.stream, append.expected, actual);
    }
    // An empty append changes nothing; it reports where the stream stands, -1n when absent.
    let result: AppendResult = { nextExpectedRevision: actual ?? -1n, position: head?.position ?? -1n };
    let revision = actual === undefined ? 0n : actual + 1n;
    for (const row of append.rows) {
      row[2] = revision;
      const { lastInsertRowid } = insertEvent.run(...row);
      result = { nextExpectedRevision: revision, position: BigInt(lastInsertRowid) };
      revision += 1n;
    }
    return result;
  };

  const commitDirectly = db.transaction((group: AppendRequest[], outcomes: AppendOutcome[]) => {
    const heads = new Map<string, StreamHead | undefined>();
    for (const append of group) {
      const head = heads.has(append.stream) ? heads.get(append.stream) : selectStreamHead.get(append.stream);
      let result: AppendResult;
      try {
        result = insertAfterHead(append, head);
      } catch (error) {
        if (!isExpectedRevisionConflict(error)) throw error;
        heads.set(append.stream, head);
        outcomes.push(conflictOf(error));
        continue;
      }
      const moved = append.rows.length > 0;
      heads.set(
        append.stream,
        moved ? { stream_revision: result.nextExpectedRevision, position: result.position } : head,
      );
      outcomes.push({ ok: result });
    }
  });

  const appendInSavepoint = db.transaction((append: AppendRequest): AppendResult =>
    insertAfterHead(append, selectStreamHead.get(append.stream)),
  );
  const commitInSavepoints = db.transaction((group: AppendRequest[], outcomes: AppendOutcome[]) => {
    for (const append of group) {
      try {
        outcomes.push({ ok: appendInSavepoint(append) });
      } catch (error) {
        // SQLite may roll the whole transaction back on some errors (a full disk): then the appends
        // after this one would each commit alone. The group fails whole instead.
        if (!db.inTransaction) throw error;
        if (isExpectedRevisionConflict(error)) outcomes.push(conflictOf(error));
        else if (isStreamRevisionCollision(error)) {
          outcomes.push(conflictOf(new ExpectedRevisionConflict(append.stream, append.expected, undefined)));
        } else outcomes.push({ failed: failureOf(error) });
      }
    }
  });

  return (group) => {
    let outcomes: AppendOutcome[] = [];
    try {
      commitDirectly.immediate(group, outcomes);
    } catch (error) {
      // Only a constraint one append broke is worth a second pass; a busy or full database is not.
      if (!(error instanceof Database.SqliteError && error.code.startsWith('SQLITE_CONSTRAINT'))) throw error;
      outcomes = [];
      commitInSavepoints.immediate(group, outcomes);
    }
    return outcomes;
  };
}

const conflictOf = (error: ExpectedRevisionConflict): AppendOutcome => ({
  conflict: { stream: error.stream, expected: error.expected, actual: error.actual },
});

export const failureOf = (error: unknown): { message: string; code: string | undefined } => ({
  message: error instanceof Error ? error.message : String(error),
  code: error instanceof Database.SqliteError ? error.code : undefined,
});

function isStreamRevisionCollision(error: unknown): boolean {
  return (
    error instanceof Database.SqliteError &&
    error.code === 'SQLITE_CONSTRAINT_UNIQUE' &&
    error.message.includes('events.stream_name, events.stream_revision')
  );
}
