/**
 * The reactor lease: one holder at a time; another takes it once it has lapsed, and a process
 * restarted after its predecessor ended takes that predecessor's lease over at once.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReactorLease } from '../../reactions/lease';
import type { Clock } from '../../src/clock';
import { openSqliteEventStore, type SqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';

const T0 = Date.parse('2026-12-03T12:00:00Z');
let now = T0;
const clock: Clock = { now: () => new Date(now) };
let store: SqliteEventStore;

beforeEach(() => {
  now = T0;
  store = openSqliteEventStore({ file: join(mkdtempSync(join(tmpdir(), 'credits-lease-')), 'events.sqlite') });
});
afterEach(() => store.close());

const lease = (holder: string, predecessor?: string) => new ReactorLease(store, holder, clock, { predecessor });

it('keeps one holder until its lease lapses, then lets another take it', async () => {
  expect(await lease('a').hold()).toBe(true);
  now += 1_000;
  expect(await lease('b').hold()).toBe(false);
  now += 15_000;
  expect(await lease('b').hold()).toBe(true);
});

it('lets a process take its ended predecessor’s lease at once, and only that one’s', async () => {
  const dead = lease('before-restart');
  expect(await dead.hold()).toBe(true);
  now += 1_000;
  const restarted = lease('after-restart', 'before-restart');
  expect(await restarted.hold()).toBe(true);
  // The lease is the restarted one's now: the old holder and any other wait for it to lapse.
  expect(await lease('other').hold()).toBe(false);
  expect(await lease('another-restart', 'before-restart').hold()).toBe(false);
});

it('takes over nothing from a holder that is not its predecessor', async () => {
  expect(await lease('replica-b').hold()).toBe(true);
  now += 1_000;
  expect(await lease('restarted-a', 'old-a').hold()).toBe(false);
});
