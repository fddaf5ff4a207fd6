/**
 * (1) The ceiling: raw batched inserts into the event store's own table, in a file opened by the
 * embedded adapter (so: WAL, synchronous=FULL), with rows the size of a real spend event. No
 * revision checks, no domain: what the disk and SQLite allow at this durability.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';
import { sampleSpendData } from '../sample-events';
import { withTempDir } from '../support';

export async function ceilingBench(options: {
  events: number;
  batch: number;
}): Promise<{ eventsPerSecond: number; seconds: number }> {
  return withTempDir('ceiling', async (dir) => {
    const file = join(dir, 'events.sqlite');
    await openSqliteEventStore({ file }).close(); // creates the schema exactly as the adapter does
    const db = new BetterSqlite3(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    const insert = db.prepare(
      `INSERT INTO events (event_id, stream_name, stream_revision, event_type, schema_version, data, metadata, recorded_at)
       VALUES (?, ?, ?, 'CreditsConsumed', 1, ?, '{"actorId":"member"}', ?)`,
    );
    const commit = db.transaction((from: number, to: number) => {
      const recordedAt = new Date().toISOString();
      for (let i = from; i < to; i++) {
        insert.run(
          randomUUID(),
          `workspace-credits-ws-${i % 1000}`,
          Math.floor(i / 1000),
          JSON.stringify(sampleSpendData(i)),
          recordedAt,
        );
      }
    });
    const started = performance.now();
    for (let from = 0; from < options.events; from += options.batch)
      commit.immediate(from, Math.min(options.events, from + options.batch));
    const seconds = (performance.now() - started) / 1000;
    db.close();
    return { eventsPerSecond: Math.round(options.events / seconds), seconds };
  });
}
