/**
 * The projection runner builds a read model from the start of the log without its query indexes,
 * creates them once caught up, and keeps them for a read model that resumes from its checkpoint.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { PROJECTIONS } from '../../projections';
import { openReadModelDb } from '../../projections/read-model-db';
import { ProjectionRunner } from '../../projections/runner';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';
import { workspaceStreamName } from '../../src/events/workspace-stream';

const QUERY_INDEXES = ['balance_grants_by_expiry', 'ledger_by_workspace', 'ledger_usage'];

const indexesOf = (db: Database): string[] =>
  db
    .prepare<[], { name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .all()
    .map((row) => row.name)
    .filter((name) => QUERY_INDEXES.includes(name));

const granted = (workspaceId: string, i: number) => ({
  type: 'CreditsGranted',
  data: {
    workspaceId,
    grantId: `grant-${i}`,
    idempotencyKey: `key-${i}`,
    credits: 10,
    reason: 'test',
    grantedBy: 'test',
    grantedAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
  },
});

async function logWithGrants(count: number) {
  const dir = mkdtempSync(join(tmpdir(), 'credits-runner-'));
  const store = openSqliteEventStore({ file: join(dir, 'events.sqlite') });
  for (let i = 0; i < count; i++) {
    await store.appendToStream(workspaceStreamName(`ws-${i % 3}`), [granted(`ws-${i % 3}`, i)], {
      expectedRevision: 'any',
    });
  }
  return { store, readModelFile: join(dir, 'read-models.sqlite') };
}

it('creates the query indexes only once a read model built from scratch has caught up', async () => {
  const { store, readModelFile } = await logWithGrants(30);
  const db = openReadModelDb(readModelFile);
  const seenWhileBuilding: string[][] = [];
  const runner = new ProjectionRunner(store, db, PROJECTIONS, {
    batchSize: 10,
    onCommitted: () => seenWhileBuilding.push(indexesOf(db)),
  });
  expect(indexesOf(db)).toEqual([]);
  await runner.start();
  expect(seenWhileBuilding.length).toBeGreaterThan(0);
  expect(seenWhileBuilding.every((indexes) => indexes.length === 0)).toBe(true);
  expect(indexesOf(db)).toEqual(QUERY_INDEXES);
  const ledgerRows = db.prepare('SELECT count(*) AS n FROM ledger_entries').get() as { n: number };
  expect(ledgerRows.n).toBe(30);
  // The queries use them.
  const plan = db
    .prepare<[], { detail: string }>(
      "EXPLAIN QUERY PLAN SELECT * FROM ledger_entries WHERE workspace_id = 'ws-1' ORDER BY position DESC",
    )
    .all();
  expect(plan.map((step) => step.detail).join(' ')).toContain('ledger_by_workspace');
  await runner.stop();

  // Resuming from the checkpoint: the indexes are there from the start, and stay.
  const resumed = new ProjectionRunner(store, db, PROJECTIONS);
  expect(indexesOf(db)).toEqual(QUERY_INDEXES);
  await resumed.start();
  await resumed.stop();

  // A rebuild drops them with the tables and creates them again at the end.
  const rebuild = new ProjectionRunner(store, db, PROJECTIONS);
  rebuild.resetAll();
  expect(indexesOf(db)).toEqual([]);
  await rebuild.start();
  expect(indexesOf(db)).toEqual(QUERY_INDEXES);
  await rebuild.stop();
  db.close();
  await store.close();
});

it('creates them at once over an empty log', async () => {
  const { store, readModelFile } = await logWithGrants(0);
  const db = openReadModelDb(readModelFile);
  const runner = new ProjectionRunner(store, db, PROJECTIONS);
  await runner.start();
  expect(indexesOf(db)).toEqual(QUERY_INDEXES);
  await runner.stop();
  db.close();
  await store.close();
});
