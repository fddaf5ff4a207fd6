/**
 * The projection runner builds a read model from the start of the log without its query indexes,
 * creates them once caught up, and keeps them for a read model that resumes from its checkpoint. A
 * read model of another log, or ahead of this one, is rebuilt before it is served.
 */
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import pino, { type Logger } from 'pino';
import { PROJECTIONS } from '../../projections';
import { openReadModelDb } from '../../projections/read-model-db';
import type { Projection } from '../../projections/projection';
import { CreditLedgerReader } from '../../projections/credit-ledger-reader';
import { ProjectionRunner } from '../../projections/runner';
import { StoreUnavailable, type EventStore } from '../../src/eventstore/port';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';
import { workspaceStreamName } from '../../src/events/workspace-stream';
import { granted } from '../support/event-log';

const QUERY_INDEXES = ['balance_grants_by_expiry', 'ledger_by_type', 'ledger_by_workspace', 'ledger_usage'];

const indexesOf = (db: Database): string[] =>
  db
    .prepare<[], { name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .all()
    .map((row) => row.name)
    .filter((name) => QUERY_INDEXES.includes(name));

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
  // A page of some types, as the reader asks for it, reads each type through its own index.
  const asked: string[] = [];
  const spied = new Proxy(db, {
    get(target, property) {
      if (property === 'prepare') {
        return (sql: string) => {
          asked.push(sql);
          return target.prepare(sql);
        };
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  new CreditLedgerReader(spied).page('ws-1', { first: 5, types: ['PURCHASE', 'CONSUMPTION'] });
  const merged = asked.find((sql) => sql.includes('UNION ALL')) ?? 'no merged query';
  const mergedPlan = db
    .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${merged}`)
    .all('ws-1', 'PURCHASE', 6, 'ws-1', 'CONSUMPTION', 6, 6)
    .map((step) => step.detail);
  expect(mergedPlan.filter((detail) => detail.includes('ledger_entries'))).toEqual([
    expect.stringContaining('USING INDEX ledger_by_type'),
    expect.stringContaining('USING INDEX ledger_by_type'),
  ]);
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

describe('a read model not built from the log it is asked to follow', () => {
  const logged = () => {
    const lines: { msg: string; projection?: string; reason?: string }[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line) as never) });
    return { logger, lines };
  };
  const ledgerCount = (db: Database) =>
    (db.prepare('SELECT count(*) AS n FROM ledger_entries').get() as { n: number }).n;
  const project = async (store: EventStore, db: Database, logger?: Logger) => {
    const runner = new ProjectionRunner(store, db, PROJECTIONS, logger ? { logger } : {});
    await runner.start();
    await runner.stop();
  };

  it('is rebuilt from the log when it was built from another log', async () => {
    const first = await logWithGrants(5);
    const db = openReadModelDb(first.readModelFile);
    await project(first.store, db);
    expect(ledgerCount(db)).toBe(5);

    // Another log (events.sqlite deleted and created again, or another database) with two events.
    const other = await logWithGrants(2);
    const { logger, lines } = logged();
    await project(other.store, db, logger);
    expect(ledgerCount(db)).toBe(2);
    expect(lines.map((line) => line.projection)).toEqual(PROJECTIONS.map((projection) => projection.name));
    expect(lines[0]?.reason).toBe(
      `it was built from another log (identity ${await first.store.identity()}; this log is ${await other.store.identity()})`,
    );
    expect(lines[0]?.msg).toMatch(/^read model not built from this log: rebuilding it from the log/);

    // From then on it is this log's: it resumes, and what the log appends next is projected.
    await other.store.appendToStream(workspaceStreamName('ws-new'), [granted('ws-new', 9)], {
      expectedRevision: 'no_stream',
    });
    const again = logged();
    await project(other.store, db, again.logger);
    expect(ledgerCount(db)).toBe(3);
    expect(again.lines).toEqual([]);
    db.close();
    await Promise.all([first.store.close(), other.store.close()]);
  });

  /** A backup of a log of 4 events, the log written on to 10, and read models projected from it. */
  const projectedPastABackup = async () => {
    const { store, readModelFile } = await logWithGrants(4);
    await store.close(); // a clean close leaves the whole log in the file
    const backup = join(readModelFile, '..', 'events-backup.sqlite');
    copyFileSync(join(readModelFile, '..', 'events.sqlite'), backup);
    const live = openSqliteEventStore({ file: join(readModelFile, '..', 'events.sqlite') });
    for (let i = 4; i < 10; i++) {
      await live.appendToStream(workspaceStreamName('ws-0'), [granted('ws-0', i)], { expectedRevision: 'any' });
    }
    const db = openReadModelDb(readModelFile);
    await project(live, db);
    expect(ledgerCount(db)).toBe(10);
    return { live, backup, db };
  };

  it('is rebuilt when its checkpoint is past the head of the log (an older copy of it)', async () => {
    const { live, backup, db } = await projectedPastABackup();

    const restored = openSqliteEventStore({ file: backup });
    expect(await restored.identity()).toBe(await live.identity()); // the same log, older
    const { logger, lines } = logged();
    await project(restored, db, logger);
    expect(ledgerCount(db)).toBe(4);
    expect(lines[0]?.reason).toMatch(/^its checkpoint \d+ is past the log's head \(4\): an older copy of the log\?$/);
    db.close();
    await Promise.all([live.close(), restored.close()]);
  });

  it('is rebuilt when the event at its checkpoint is not the one it recorded (an older copy, written past it since)', async () => {
    const { live, backup, db } = await projectedPastABackup();

    // The backup is restored, and written to past the checkpoint before the server starts again.
    const restored = openSqliteEventStore({ file: backup });
    for (let i = 20; i < 28; i++) {
      await restored.appendToStream(workspaceStreamName('ws-5'), [granted('ws-5', i)], { expectedRevision: 'any' });
    }
    expect(await restored.headPosition()).toBeGreaterThan(
      BigInt(
        db.prepare("SELECT position FROM projection_checkpoints WHERE name = 'credit-ledger'").pluck().get() as string,
      ),
    );
    const { logger, lines } = logged();
    await project(restored, db, logger);
    expect(ledgerCount(db)).toBe(12); // the 4 of the backup and the 8 written since, not the 6 it lost
    expect(lines).toHaveLength(PROJECTIONS.length);
    expect(lines[0]?.reason).toMatch(
      /^the event its checkpoint \d+ was written at \(event .+, workspace-credits-ws-0@\d+\) is not in the log any more \((no event|event .+) is there\): an older copy of the log, written to since\?$/,
    );
    // Rebuilt from this log: the next start resumes without rebuilding.
    const again = logged();
    await project(restored, db, again.logger);
    expect(again.lines).toEqual([]);
    db.close();
    await Promise.all([live.close(), restored.close()]);
  });

  it('is rebuilt when its checkpoint records no log (written by an earlier release)', async () => {
    const { store, readModelFile } = await logWithGrants(3);
    const db = openReadModelDb(readModelFile);
    await project(store, db);
    db.prepare('UPDATE projection_checkpoints SET log = NULL').run();
    const { logger, lines } = logged();
    await project(store, db, logger);
    expect(ledgerCount(db)).toBe(3);
    expect(lines).toHaveLength(PROJECTIONS.length);
    expect(lines[0]?.reason).toBe('its checkpoint records no log identity (written by an earlier release)');
    expect(db.prepare('SELECT DISTINCT log FROM projection_checkpoints').pluck().all()).toEqual([
      await store.identity(),
    ]);
    db.close();
    await store.close();
  });
});

describe('a database fault (disk full)', () => {
  it('keeps the batch, retries it with backoff, says it is stalled, and resumes by itself once the fault clears', async () => {
    const { store, readModelFile } = await logWithGrants(5);
    const db = openReadModelDb(readModelFile);
    let diskFull = false;
    const applied: bigint[] = [];
    const counting: Projection = {
      name: 'counting',
      version: 1,
      migrate: () => undefined,
      reset: () => undefined,
      prepare: () => ({
        apply(event) {
          if (diskFull) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
          applied.push(event.position);
        },
      }),
    };
    const stalls: (string | undefined)[] = [];
    const runner = new ProjectionRunner(store, db, [counting], {
      retryDelayMs: { first: 10, max: 40 },
      onStalled: (error) => stalls.push(error?.message),
    });
    await runner.start();
    expect(applied).toHaveLength(5);

    diskFull = true;
    await store.appendToStream(workspaceStreamName('ws-0'), [granted('ws-0', 100)], { expectedRevision: 'any' });
    const head = (await store.headPosition()) as bigint;
    await new Promise((resolve) => setTimeout(resolve, 150)); // several refused attempts
    expect(runner.stalledBy?.message).toBe('database or disk is full');
    expect(runner.checkpoint).toBeLessThan(head);
    expect(stalls[0]).toBe('database or disk is full');

    diskFull = false; // space comes back: nothing to restart
    await runner.waitFor(head, 2_000);
    expect(runner.stalledBy).toBeUndefined();
    expect(runner.checkpoint).toBe(head);
    expect(stalls[stalls.length - 1]).toBeUndefined();
    expect(applied).toHaveLength(6); // the refused batch applied once, nothing skipped
    expect(new Set(applied).size).toBe(6);
    await runner.stop();
    db.close();
    await store.close();
  });
});

describe('handlers prepared again after a refused batch', () => {
  it('treats a failure to prepare them as one more refusal, retried until it passes', async () => {
    const { store } = await logWithGrants(3);
    const db = openReadModelDb(join(mkdtempSync(join(tmpdir(), 'credits-prepare-')), 'read-models.sqlite'));
    const full = () => Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    let diskFull = false;
    let prepareFails = false;
    let prepared = 0;
    const applied: bigint[] = [];
    const flaky: Projection = {
      name: 'flaky',
      version: 1,
      migrate: () => undefined,
      reset: () => undefined,
      prepare: () => {
        if (prepareFails) throw full();
        prepared += 1;
        return {
          apply(event) {
            if (diskFull) throw full();
            applied.push(event.position);
          },
        };
      },
    };
    const runner = new ProjectionRunner(store, db, [flaky], { retryDelayMs: { first: 10, max: 20 } });
    await runner.start();
    expect(prepared).toBe(1);
    diskFull = true;
    prepareFails = true;
    await store.appendToStream(workspaceStreamName('ws-0'), [granted('ws-0', 100)], { expectedRevision: 'any' });
    const head = (await store.headPosition()) as bigint;
    await new Promise((resolve) => setTimeout(resolve, 100));
    diskFull = false; // the batch could go now, but its handlers cannot be prepared yet
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(runner.error).toBeUndefined();
    expect(runner.stalledBy?.message).toBe('database or disk is full');
    prepareFails = false;
    await runner.waitFor(head, 2_000);
    expect(runner.stalledBy).toBeUndefined();
    expect(prepared).toBe(2);
    expect(applied).toHaveLength(4);
    await runner.stop();
    db.close();
    await store.close();
  });
});

describe('a disk that fills in the middle of a batch', () => {
  it('keeps the batch when SQLite rolls the whole transaction back, and applies it once when space comes back', async () => {
    const { store } = await logWithGrants(1_500);
    // The disk fills at several points of the batch: in the first read model, or partway through
    // the ledger, whose running balances are kept in memory until the batch ends.
    for (const spare of [4, 30, 60]) {
      const db = openReadModelDb(join(mkdtempSync(join(tmpdir(), 'credits-full-')), 'read-models.sqlite'));
      const stalls: (string | undefined)[] = [];
      const failures: string[] = [];
      const runner = new ProjectionRunner(store, db, PROJECTIONS, {
        batchSize: 100_000,
        retryDelayMs: { first: 10, max: 40 },
        onStalled: (error) => stalls.push(error?.message),
        onFailed: (failure) => failures.push(failure.error),
      });
      // SQLite refuses a page the batch needs (SQLITE_FULL), as on a full disk, and rolls the whole
      // transaction back by itself, savepoints and all.
      db.pragma(`max_page_count = ${(db.pragma('page_count', { simple: true }) as number) + spare}`);
      const started = runner.start();
      const deadline = Date.now() + 5_000;
      while (runner.stalledBy === undefined && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(runner.stalledBy?.message).toMatch(/full/);
      db.pragma('max_page_count = 1073741823'); // space comes back: nothing to restart
      await started;
      expect(runner.error).toBeUndefined();
      expect(failures).toEqual([]);
      expect(stalls.at(-1)).toBeUndefined();
      // Applied once: each workspace's ledger starts at its first grant and ends at what it was granted.
      const balances = db
        .prepare<[], { workspace_id: string; balance: number }>(
          'SELECT workspace_id, balance FROM ledger_balances ORDER BY workspace_id',
        )
        .all();
      expect({ spare, balances }).toEqual({
        spare,
        balances: ['ws-0', 'ws-1', 'ws-2'].map((workspace_id) => ({ workspace_id, balance: 5_000 })),
      });
      const firsts = db
        .prepare<[], number>(
          'SELECT balance_after FROM ledger_entries WHERE position IN (SELECT min(position) FROM ledger_entries GROUP BY workspace_id)',
        )
        .pluck()
        .all();
      expect(firsts).toEqual([10, 10, 10]);
      const grants = db
        .prepare<[], { count: number; remaining: number }>(
          "SELECT count(*) AS count, sum(remaining) AS remaining FROM balance_grants WHERE workspace_id = 'ws-1'",
        )
        .get();
      expect(grants).toEqual({ count: 500, remaining: 5_000 });
      await runner.stop();
      db.close();
    }
    await store.close();
  });
});

describe('an event store that does not answer at start', () => {
  /** The store, with identity() refused as an unreachable node refuses it while `down` says so. */
  const unreachableWhile = (store: EventStore, down: () => boolean): EventStore =>
    new Proxy(store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (property !== 'identity' || typeof value !== 'function') return value;
        return () =>
          down()
            ? Promise.reject(new StoreUnavailable(new Error('14 UNAVAILABLE: connect ECONNREFUSED'), true))
            : (value as () => Promise<string>).call(target);
      },
    });

  it('fails start() at once unless told to wait (a command line tool)', async () => {
    const { store, readModelFile } = await logWithGrants(3);
    const db = openReadModelDb(readModelFile);
    const runner = new ProjectionRunner(
      unreachableWhile(store, () => true),
      db,
      PROJECTIONS,
    );
    await expect(runner.start()).rejects.toBeInstanceOf(StoreUnavailable);
    db.close();
    await store.close();
  });

  it('waits for it when told to, says so once, and follows the whole log once it answers', async () => {
    const { store, readModelFile } = await logWithGrants(6);
    const db = openReadModelDb(readModelFile);
    let down = true;
    let asked = 0;
    const told: (string | undefined)[] = [];
    const runner = new ProjectionRunner(
      unreachableWhile(store, () => {
        asked += 1;
        return down;
      }),
      db,
      PROJECTIONS,
      {
        waitForStore: true,
        retryDelayMs: { first: 5, max: 20 },
        onStoreUnreachable: (error) => told.push(error?.message),
      },
    );
    const started = runner.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(asked).toBeGreaterThan(2); // asked again, with waits
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(/ECONNREFUSED/);
    expect(runner.checkpoint).toBeUndefined();

    down = false;
    await started;
    expect(told).toEqual([told[0], undefined]);
    expect(runner.checkpoint).toBe(await store.headPosition());
    const entries = db.prepare('SELECT count(*) AS n FROM ledger_entries').get() as { n: number };
    expect(entries.n).toBe(6);
    await runner.stop();
    db.close();
    await store.close();
  });

  it('gives up waiting when stopped, with nothing projected', async () => {
    const { store, readModelFile } = await logWithGrants(2);
    const db = openReadModelDb(readModelFile);
    const runner = new ProjectionRunner(
      unreachableWhile(store, () => true),
      db,
      PROJECTIONS,
      {
        waitForStore: true,
        retryDelayMs: { first: 60_000, max: 60_000 },
      },
    );
    const started = runner.start();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await runner.stop();
    await started; // ends without waiting out the minute
    expect(runner.checkpoint).toBeUndefined();
    db.close();
    await store.close();
  });
});
