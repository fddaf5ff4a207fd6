/**
 * The balance reader's cache over the real runner: a workspace read once is served from memory
 * until its owner says a committed batch changed it, never while a batch the owner has not heard of
 * is committed, and what it serves cannot be changed by the caller.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECTIONS } from '../../projections';
import { openReadModelDb } from '../../projections/read-model-db';
import { ProjectionRunner } from '../../projections/runner';
import { WorkspaceBalanceReader } from '../../projections/workspace-balance';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';
import { workspaceStreamName } from '../../src/events/workspace-stream';

const granted = (grantId: string, credits: number) => ({
  type: 'CreditsGranted',
  data: {
    workspaceId: 'ws-1',
    grantId,
    idempotencyKey: grantId,
    credits,
    reason: 'test',
    grantedBy: 'test',
    grantedAt: '2026-01-01T00:00:00.000Z',
  },
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

it('serves a cached workspace until told it changed, and refuses changes to what it serves', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'credits-balance-reader-'));
  const store = openSqliteEventStore({ file: join(dir, 'events.sqlite') });
  const db = openReadModelDb(join(dir, 'read-models.sqlite'));
  const changed: string[][] = [];
  const runner = new ProjectionRunner(store, db, PROJECTIONS, {
    onCommitted: (batch) => changed.push(batch.map((event) => String(event.data.workspaceId))),
  });
  cleanups.push(async () => {
    await runner.stop();
    db.close();
    await store.close();
  });
  const stream = workspaceStreamName('ws-1');
  await store.appendToStream(stream, [granted('g1', 10)], { expectedRevision: 'no_stream' });
  await runner.start();
  let heard = runner.checkpoint;
  const cached = new WorkspaceBalanceReader(db, { cachedWorkspaces: 10, seen: () => heard });
  const uncached = new WorkspaceBalanceReader(db);
  const first = cached.grants('ws-1');
  expect(first.map((grant) => grant.id)).toEqual(['g1']);
  expect(cached.grants('ws-1')).toBe(first); // from memory

  const { position } = await store.appendToStream(stream, [granted('g2', 5)], { expectedRevision: 0n });
  await runner.waitFor(position);
  expect(uncached.grants('ws-1').map((grant) => grant.id)).toEqual(['g1', 'g2']);
  // Committed, and its owner not told yet: the cache is not trusted.
  expect(cached.grants('ws-1').map((grant) => grant.id)).toEqual(['g1', 'g2']);
  expect(changed.at(-1)).toEqual(['ws-1']);
  cached.forget(['ws-1']);
  heard = position;
  const second = cached.grants('ws-1');
  expect(second.map((grant) => grant.id)).toEqual(['g1', 'g2']);
  cached.forget(['ws-2']);
  expect(cached.grants('ws-1')).toBe(second);

  // (The arrays come from better-sqlite3's realm, whose TypeError is not jest's: match messages.)
  const [grant] = cached.grants('ws-1');
  expect(() => {
    (grant as { remaining: number }).remaining = 0;
  }).toThrow(/read only/);
  expect(() => (cached.grants('ws-1') as unknown[]).push(grant)).toThrow(/not extensible/);
  expect(cached.grants('ws-1')[0]?.remaining).toBe(10);
  expect(cached.grants('ws-1')).toBe(second);
});
