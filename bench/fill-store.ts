/**
 * Fills an event store file with a synthetic history quickly, for scenarios that need a large log:
 * each workspace gets one large promotional grant, then spends spread evenly over `spanMs` up to now.
 * It writes through the adapter's schema with raw inserts and no fsync: setting up is not measured.
 */
import { randomUUID } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import { openEventsDatabase } from '../src/eventstore/sqlite/database';
import { workspaceStreamName } from '../src/events/workspace-stream';
import { sampleGrantData, sampleSpendData } from './sample-events';

export async function fillStore(
  file: string,
  options: { workspaces: number; events: number; spanMs: number },
): Promise<void> {
  openEventsDatabase(file).close(); // the adapter's schema
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const insert = db.prepare(
    `INSERT INTO events (event_id, stream_name, stream_revision, event_type, schema_version, data, metadata, recorded_at)
     VALUES (?, ?, ?, ?, 1, ?, ?, ?)`,
  );
  const start = Date.now() - options.spanMs;
  const revisions = new Map<string, number>();
  const next = (workspaceId: string): number => {
    const revision = revisions.get(workspaceId) ?? 0;
    revisions.set(workspaceId, revision + 1);
    return revision;
  };
  const write = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const workspaceId = `ws-${i % options.workspaces}`;
      const stream = workspaceStreamName(workspaceId);
      const at = new Date(start + Math.floor((options.spanMs * i) / options.events)).toISOString();
      if (!revisions.has(workspaceId)) {
        insert.run(
          randomUUID(),
          stream,
          next(workspaceId),
          'CreditsGranted',
          JSON.stringify(sampleGrantData(workspaceId, at)),
          '{"actorId":"bench"}',
          at,
        );
      }
      const data = sampleSpendData(i, workspaceId, at);
      insert.run(
        randomUUID(),
        stream,
        next(workspaceId),
        'CreditsConsumed',
        JSON.stringify(data),
        `{"actorId":"${data.actorId}"}`,
        at,
      );
    }
  });
  for (let from = 0; from < options.events; from += 50_000) write(from, Math.min(options.events, from + 50_000));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}
