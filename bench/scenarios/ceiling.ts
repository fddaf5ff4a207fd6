/**
 * (1) The ceiling: raw batched inserts into the event store's own table, on a connection opened
 * exactly as the embedded adapter opens the one it appends on (WAL, synchronous = FULL, its page
 * cache and checkpoint settings), with rows the size of a real spend event and ids made as the
 * service makes them, one commit after the other on one thread. No revision checks, no domain: what
 * the disk and SQLite allow at this durability.
 */
import { join } from 'node:path';
import { openEventsDatabase } from '../../src/eventstore/sqlite/database';
import { newId } from '../../src/ids';
import { sampleSpendData } from '../sample-events';
import { withTempDir } from '../support';

export async function ceilingBench(options: {
  events: number;
  batch: number;
}): Promise<{ eventsPerSecond: number; seconds: number }> {
  return withTempDir('ceiling', async (dir) => {
    const db = openEventsDatabase(join(dir, 'events.sqlite'), { forAppends: true });
    const insert = db.prepare(
      `INSERT INTO events (event_id, stream_name, stream_revision, event_type, schema_version, data, metadata, recorded_at)
       VALUES (?, ?, ?, 'CreditsConsumed', 1, ?, '{"actorId":"member"}', ?)`,
    );
    const commit = db.transaction((from: number, to: number) => {
      const recordedAt = new Date().toISOString();
      for (let i = from; i < to; i++) {
        insert.run(
          newId(),
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
