/**
 * Given / then for read models, in the style of Emmett's projection specifications, so that a read
 * model's spec is mostly data, as the decider's is (test/domain/spec.ts):
 *
 *   projection(creditLedgerProjection).given(...events).thenRows('SELECT … FROM ledger_entries', rows)
 *   projection(creditLedgerProjection).given(...events).then((db) => new CreditLedgerReader(db).page(…), answer)
 *
 * Events are the domain's (test/domain/builders.ts, payment-builders.ts), recorded in their
 * workspace's stream, or anything else the log holds, written with `recorded(…)`; `by(actor, event)`
 * records a domain event with the actor's metadata, as the command side does. The projection runs on
 * an in-memory read-model database, as the runner runs it: migrated, fed in position order, each
 * batch in one transaction ending with `endBatch`.
 *
 * Every run also checks that the read model comes out the same whether the log arrives in one batch
 * or one event per batch: a projection that holds changes back during a batch must neither lose nor
 * double them.
 */
import type { Database } from 'better-sqlite3';
import type { Projection } from '../../projections/projection';
import { openReadModelDb } from '../../projections/read-model-db';
import { occurredAt, type WorkspaceCreditsEvent } from '../../src/domain/events';
import { currentSchemaVersion } from '../../src/events/upcasters';
import { workspaceStreamName } from '../../src/events/workspace-stream';
import type { RecordedEvent } from '../../src/eventstore/port';

/** An event of the log as a spec writes it: where it is stored, what it says, and when. */
export interface LogEntry {
  streamName: string;
  type: string;
  data: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  /** Defaults to the type's current version, as the command side writes it. */
  schemaVersion?: number;
  /** Defaults to the instant the domain event says it occurred, or T0. */
  recordedAt?: Date;
}

export type Given = WorkspaceCreditsEvent | LogEntry;

const isLogEntry = (event: Given): event is LogEntry => 'streamName' in event;

/** An event of any stream (a reaction's, a refused provider event's), as the log holds it. */
export const recorded = (
  streamName: string,
  type: string,
  data: Record<string, unknown>,
  fields: Omit<LogEntry, 'streamName' | 'type' | 'data'> = {},
): LogEntry => ({ streamName, type, data, ...fields });

/** A domain event as its workspace's stream holds it, recorded at the instant it says it occurred. */
const inItsStream = (event: WorkspaceCreditsEvent): LogEntry => ({
  streamName: workspaceStreamName(event.data.workspaceId),
  type: event.type,
  data: event.data,
  recordedAt: new Date(occurredAt(event)),
});

/** A domain event recorded with the metadata the command side writes: who caused it. */
export const by = (actorId: string, event: WorkspaceCreditsEvent): LogEntry => ({
  ...inItsStream(event),
  metadata: { actorId },
});

/** The event as it would be in another workspace (the builders write to one). */
export const inWorkspace = <E extends WorkspaceCreditsEvent>(workspaceId: string, event: E): E => ({
  ...event,
  data: { ...event.data, workspaceId },
});

/** The events as the store would hand them over: global positions from 1, revisions per stream. */
export function toLog(events: readonly Given[]): RecordedEvent[] {
  const revisions = new Map<string, bigint>();
  return events.map((event, index) => {
    const entry = isLogEntry(event) ? event : inItsStream(event);
    const revision = revisions.get(entry.streamName) ?? 0n;
    revisions.set(entry.streamName, revision + 1n);
    return {
      id: `event-${index + 1}`,
      streamName: entry.streamName,
      type: entry.type,
      data: entry.data,
      metadata: entry.metadata ?? {},
      schemaVersion: entry.schemaVersion ?? currentSchemaVersion(entry.type),
      revision,
      position: BigInt(index + 1),
      recordedAt: entry.recordedAt ?? new Date('2025-01-01T00:00:00.000Z'),
    };
  });
}

/** A fresh read-model database with the projections' tables and query indexes. */
function readModelsWith(projections: readonly Projection[]): Database {
  const db = openReadModelDb(':memory:');
  for (const projection of projections) {
    projection.migrate(db);
    for (const statement of projection.queryIndexes ?? []) db.exec(statement);
  }
  return db;
}

/** Applies the log in batches of `batchSize` events, each in one transaction, as the runner does. */
function project(projections: readonly Projection[], log: readonly RecordedEvent[], batchSize: number): Database {
  const db = readModelsWith(projections);
  const handlers = projections.map((projection) => projection.prepare(db));
  for (let start = 0; start < log.length; start += batchSize) {
    const batch = log.slice(start, start + batchSize);
    db.transaction(() => {
      for (const handler of handlers) {
        for (const event of batch) handler.apply(event);
        handler.endBatch?.();
      }
    })();
  }
  return db;
}

/** Every row of every table the projections keep, to compare two builds of the same read models. */
function contents(db: Database): Record<string, unknown[]> {
  const tables = db
    .prepare<[], { name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .all()
    .map((row) => row.name);
  return Object.fromEntries(tables.map((table) => [table, db.prepare(`SELECT * FROM "${table}" ORDER BY 1, 2`).all()]));
}

export function projection(...projections: Projection[]) {
  return {
    given(...events: Given[]) {
      const log = toLog(events);
      /** The read models after the whole log, checked to be the same as when it came one event per batch. */
      const build = (): Database => {
        const db = project(projections, log, Math.max(1, log.length));
        const eventByEvent = project(projections, log, 1);
        try {
          expect(contents(eventByEvent)).toEqual(contents(db));
        } finally {
          eventByEvent.close();
        }
        return db;
      };
      const reading = <T>(read: (db: Database) => T): T => {
        const db = build();
        try {
          return read(db);
        } finally {
          db.close();
        }
      };
      return {
        /** The rows `sql` selects from the read models. */
        thenRows(sql: string, expected: readonly Record<string, unknown>[]): void {
          expect(reading((db) => db.prepare(sql).all())).toEqual(expected);
        },
        /** What `read` answers over the read models (a reader's query, usually). */
        then<T>(read: (db: Database) => T, expected: NoInfer<T>): void {
          expect(reading(read)).toEqual(expected);
        },
      };
    },
  };
}
