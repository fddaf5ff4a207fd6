/**
 * The event a read model's checkpoint vouches by (runner.ts) is checked at start: a log that went
 * back rebuilds the read model. What does not mean the log went back must rebuild nothing: a
 * rollback to the previous release, which moves the checkpoint's position but not its event, and a
 * read of that event that fails (the store gone a moment), which must not stop the start either.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { PROJECTIONS } from '../../projections';
import { openReadModelDb } from '../../projections/read-model-db';
import { ProjectionRunner } from '../../projections/runner';
import { StoreUnavailable, type EventStore } from '../../src/eventstore/port';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';
import { workspaceStreamName } from '../../src/events/workspace-stream';
import { granted } from '../support/event-log';

it('rebuilds nothing after a rollback to a release that moved the position but not the event', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'review2-'));
  const store = openSqliteEventStore({ file: join(dir, 'events.sqlite') });
  const db = openReadModelDb(join(dir, 'read-models.sqlite'));
  for (let i = 0; i < 3; i++)
    await store.appendToStream(workspaceStreamName('ws-1'), [granted('ws-1', i)], { expectedRevision: 'any' });
  let runner = new ProjectionRunner(store, db, PROJECTIONS);
  await runner.start();
  await runner.stop();
  // The previous release runs (a rollback) and projects 2 more events: it moves the position only.
  for (let i = 3; i < 5; i++)
    await store.appendToStream(workspaceStreamName('ws-1'), [granted('ws-1', i)], { expectedRevision: 'any' });
  const head = await store.headPosition();
  for (const p of PROJECTIONS) {
    db.prepare('UPDATE projection_checkpoints SET position = ? WHERE name = ?').run(`${head}`, p.name);
  }
  // (the read models themselves would have the 2 events; not needed to show the rebuild decision)
  const lines: { reason?: string }[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line) as never) });
  runner = new ProjectionRunner(store, db, PROJECTIONS, { logger });
  await runner.start();
  await runner.stop();
  expect(lines.map((line) => line.reason)).toEqual([]);
  db.close();
  await store.close();
});

it("starts, keeping the read models, when the read of the checkpoint's event fails", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'review2-'));
  const store = openSqliteEventStore({ file: join(dir, 'events.sqlite') });
  const db = openReadModelDb(join(dir, 'read-models.sqlite'));
  for (let i = 0; i < 3; i++)
    await store.appendToStream(workspaceStreamName('ws-1'), [granted('ws-1', i)], { expectedRevision: 'any' });
  let runner = new ProjectionRunner(store, db, PROJECTIONS);
  await runner.start();
  await runner.stop();
  let failOnce = true;
  const flaky = new Proxy(store, {
    get(target, property) {
      if (property === 'readStream') {
        return (...args: unknown[]) => {
          if (failOnce) {
            failOnce = false;
            throw new StoreUnavailable(new Error('node went away'), true);
          }
          return (target.readStream as (...a: unknown[]) => unknown)(...args);
        };
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as EventStore;
  runner = new ProjectionRunner(flaky, db, PROJECTIONS, { waitForStore: true, retryDelayMs: { first: 10, max: 20 } });
  await expect(runner.start()).resolves.toBeUndefined();
  await runner.stop();
  db.close();
  await store.close();
});
