/**
 * The reaction executor's choice of work: due work, the most overdue first, never more than the
 * performer's concurrency, nor more than its bound per partition (one webhook endpoint); never
 * what it is performing; and performed work held back until its recorded outcome has been derived
 * (or rescheduled by it), not for a whole grace period.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pino from 'pino';
import { ReactionExecutor } from '../../reactions/executor';
import { ReactorLease } from '../../reactions/lease';
import type { PerformResult, ReactionPerformer, WorkItem } from '../../reactions/reaction';
import { WORK_SCHEMA, WorkQueue } from '../../reactions/work-queue';
import { WorkReader } from '../../reactions/work-reader';
import type { Clock } from '../../src/clock';
import type { EventStore } from '../../src/eventstore/port';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';

const T0 = Date.parse('2026-03-01T00:00:00Z');

/** A performer whose attempts stay in flight until the test finishes them. */
function heldPerformer(options: { concurrency: number; partitionConcurrency?: number }) {
  const pending = new Map<string, (result: PerformResult) => void>();
  const performed: string[] = [];
  const performer: ReactionPerformer = {
    name: 'hooks',
    retry: { maxAttempts: 3, firstDelayMs: 1_000, maxDelayMs: 10_000 },
    ...options,
    perform: (item: WorkItem) =>
      new Promise<PerformResult>((resolve) => {
        performed.push(item.key);
        pending.set(item.key, resolve);
      }),
  };
  const finish = (key: string, result: PerformResult): void => {
    pending.get(key)?.(result);
    pending.delete(key);
  };
  return { performer, performed, inFlight: () => [...pending.keys()].sort(), finish };
}

function executorOver(
  performer: ReactionPerformer,
  options: { started?: boolean; lease?: ReactorLease; clock?: Clock; derivationStopped?: () => boolean } = {},
) {
  const db = new BetterSqlite3(':memory:');
  db.exec(WORK_SCHEMA);
  const work = new WorkQueue(db, 'hooks');
  let checkpoint: bigint | undefined;
  const appended: { type: string; data: unknown }[] = [];
  const executor = new ReactionExecutor({
    reader: new WorkReader(db),
    store: {
      appendToStream: (_stream: string, events: { type: string; data: unknown }[]) => {
        appended.push(...events);
        return Promise.resolve({ nextExpectedRevision: 0n, position: 0n });
      },
    } as unknown as EventStore,
    performers: [performer],
    lease:
      options.lease ??
      ({ hold: () => Promise.resolve(true), release: () => Promise.resolve() } as unknown as ReactorLease),
    clock: options.clock ?? { now: () => new Date(T0) },
    logger: pino({ level: 'silent' }),
    pollMs: 60_000,
    checkpoint: () => checkpoint,
    ...(options.derivationStopped && { derivationStopped: options.derivationStopped }),
  });
  if (options.started ?? true) executor.start();
  /** Looks for work and lets it start (looks are throttled: wait out the interval first). */
  const look = async (): Promise<void> => {
    await new Promise((resolve) => setTimeout(resolve, 60));
    executor.wake();
    await new Promise((resolve) => setTimeout(resolve, 60));
  };
  return { work, executor, look, appended, derivedUpTo: (position: bigint) => (checkpoint = position) };
}

it('starts the most overdue work first, within its concurrency and its bound per endpoint', async () => {
  const { performer, performed, inFlight, finish } = heldPerformer({ concurrency: 5, partitionConcurrency: 2 });
  const { work, executor, look } = executorOver(performer);
  // Three endpoints' messages, endpoint a's the oldest.
  for (const [endpoint, offsets] of [
    ['a', [1, 2, 3, 4]],
    ['b', [5, 6, 7]],
    ['c', [8, 9]],
  ] as const) {
    for (const offset of offsets) work.schedule(`${endpoint}/m${offset}`, {}, T0 - 100 + offset);
  }
  work.schedule('d/later', {}, T0 + 60_000); // not due yet
  await look();
  expect(inFlight()).toEqual(['a/m1', 'a/m2', 'b/m5', 'b/m6', 'c/m8']);

  // Endpoint a's slots stay taken; b frees one: its next message goes, not a's.
  finish('b/m5', undefined);
  work.complete('b/m5');
  await look();
  expect(inFlight()).toEqual(['a/m1', 'a/m2', 'b/m6', 'b/m7', 'c/m8']);
  expect(performed).not.toContain('d/later');
  for (const key of inFlight()) finish(key, undefined);
  await executor.stop();
});

it('performs nothing before it is started, however often it is woken, and what is due once it is', async () => {
  const { performer, inFlight, finish } = heldPerformer({ concurrency: 5 });
  const { work, executor, look } = executorOver(performer, { started: false });
  work.schedule('a/m1', {}, T0 - 100);
  await look();
  await look();
  expect(inFlight()).toEqual([]);
  executor.start();
  await look();
  expect(inFlight()).toEqual(['a/m1']);
  finish('a/m1', undefined);
  await executor.stop();
});

it('keeps a partition to the smaller bound its performer gives it now', async () => {
  const held = heldPerformer({ concurrency: 8, partitionConcurrency: 3 });
  // Endpoint a is struggling: one place; b keeps three.
  const performer = { ...held.performer, concurrencyIn: (partition: string) => (partition === 'a' ? 1 : 3) };
  const { work, executor, look } = executorOver(performer);
  for (const endpoint of ['a', 'b']) {
    for (const offset of [1, 2, 3, 4]) work.schedule(`${endpoint}/m${offset}`, {}, T0 - 100 + offset);
  }
  await look();
  expect(held.inFlight()).toEqual(['a/m1', 'b/m1', 'b/m2', 'b/m3']);
  for (const key of held.inFlight()) held.finish(key, undefined);
  await executor.stop();
});

it("keeps a group's partitions together to the group's bound, and leaves partitions in no group alone", async () => {
  const held = heldPerformer({ concurrency: 20, partitionConcurrency: 3 });
  // Endpoints a, b and c are one workspace's (4 places together); p is the platform's (no group).
  const performer = {
    ...held.performer,
    groupConcurrency: 4,
    groupOf: (partition: string) => (partition === 'p' ? undefined : 'ws-1'),
  };
  const { work, executor, look } = executorOver(performer);
  for (const endpoint of ['a', 'b', 'c', 'p']) {
    for (const offset of [1, 2, 3]) work.schedule(`${endpoint}/m${offset}`, {}, T0 - 100 + offset);
  }
  await look();
  const started = held.inFlight();
  expect(started.filter((key) => !key.startsWith('p/'))).toHaveLength(4);
  expect(started.filter((key) => key.startsWith('p/'))).toEqual(['p/m1', 'p/m2', 'p/m3']);

  // One of the workspace's frees a place: exactly one more of its messages goes.
  const [first] = started;
  held.finish(first as string, undefined);
  work.complete(first as string);
  await look();
  expect(held.inFlight().filter((key) => !key.startsWith('p/'))).toHaveLength(4);
  expect(held.performed.filter((key) => !key.startsWith('p/'))).toHaveLength(5);
  for (const key of held.inFlight()) held.finish(key, undefined);
  await executor.stop();
});

it('keeps the partitions in the reduced pool, whoever owns them, to its bound together', async () => {
  const held = heldPerformer({ concurrency: 20, partitionConcurrency: 2 });
  // a, b and c are struggling endpoints of three workspaces (2 places between them); d answers well.
  const performer = {
    ...held.performer,
    groupConcurrency: 10,
    groupOf: (partition: string) => `ws-${partition}`,
    reducedPoolConcurrency: 2,
    inReducedPool: (partition: string) => partition !== 'd',
  };
  const { work, executor, look } = executorOver(performer);
  for (const endpoint of ['a', 'b', 'c', 'd']) {
    for (const offset of [1, 2, 3]) work.schedule(`${endpoint}/m${offset}`, {}, T0 - 100 + offset);
  }
  await look();
  const struggling = () => held.inFlight().filter((key) => !key.startsWith('d/'));
  expect(struggling()).toHaveLength(2);
  expect(held.inFlight().filter((key) => key.startsWith('d/'))).toEqual(['d/m1', 'd/m2']);

  // One of the pool's places frees: one more of theirs goes, no more.
  const [first] = struggling();
  held.finish(first as string, undefined);
  work.complete(first as string);
  await look();
  expect(struggling()).toHaveLength(2);
  for (const key of held.inFlight()) held.finish(key, undefined);
  await executor.stop();
});

it("gives a group's places to its most overdue work, whichever of its partitions holds it", async () => {
  const held = heldPerformer({ concurrency: 20, partitionConcurrency: 3 });
  const performer = { ...held.performer, groupConcurrency: 3, groupOf: () => 'ws-1' };
  const { work, executor, look } = executorOver(performer);
  // a and b (listed first) have backlogs; c's one message is the most overdue of all.
  for (const offset of [1, 2, 3]) {
    work.schedule(`a/m${offset}`, {}, T0 - 100 + offset);
    work.schedule(`b/m${offset}`, {}, T0 - 50 + offset);
  }
  work.schedule('c/m1', {}, T0 - 500);
  await look();
  expect(held.inFlight()).toEqual(['a/m1', 'a/m2', 'c/m1']);
  for (const key of held.inFlight()) held.finish(key, undefined);
  await executor.stop();
});

it('holds performed work back until its outcome is derived, and no longer', async () => {
  const { performer, performed, inFlight, finish } = heldPerformer({ concurrency: 4, partitionConcurrency: 4 });
  const { work, executor, look, derivedUpTo } = executorOver(performer);
  work.schedule('a/m1', {}, T0 - 10);
  work.schedule('a/m2', {}, T0 - 10);
  await look();
  expect(performed).toEqual(['a/m1', 'a/m2']);

  // Both performed; their outcomes recorded at positions 10 and 11, not derived yet.
  finish('a/m1', { outcomeAt: 10n });
  finish('a/m2', { outcomeAt: 11n });
  await look();
  expect(performed).toEqual(['a/m1', 'a/m2']); // not started again

  // The derivation reaches 10: m1's outcome is derived, and whatever it left due is due (here, m1
  // itself, unchanged). m2 has a new due time (a resend was asked for while it was in flight), but
  // its outcome is not derived yet: it waits, so that its next run starts from what that outcome
  // made of it.
  derivedUpTo(10n);
  work.failed('a/m2', 1, 'HTTP 500', T0 - 5);
  await look();
  expect(performed.slice(2)).toEqual(['a/m1']);
  derivedUpTo(11n);
  await look();
  expect(performed.slice(3)).toEqual(['a/m2']);
  for (const key of inFlight()) finish(key, undefined);
  await executor.stop();
});

it('records a look later with the new payload its performer gave, for the derivation to keep', async () => {
  const { performer, finish } = heldPerformer({ concurrency: 1 });
  const { work, executor, look, appended } = executorOver(performer);
  work.schedule('topup/1', { attempt: 1 }, T0 - 1);
  await look();
  finish('topup/1', { checkAgainAt: new Date(T0 + 60_000), payload: { attempt: 1, paymentIntentId: 'pi_p' } });
  await executor.idle();
  expect(appended).toEqual([
    {
      type: 'ReactionWorkDeferred',
      data: {
        reaction: 'hooks',
        key: 'topup/1',
        dueAt: new Date(T0 + 60_000).toISOString(),
        deferredAt: new Date(T0).toISOString(),
        payload: { attempt: 1, paymentIntentId: 'pi_p' },
        performed: { attempt: 1 },
      },
    },
  ]);
  await executor.stop();
});

it('renews its lease while work is in flight, so that no other replica performs the same work beside it', async () => {
  let now = T0;
  const clock: Clock = { now: () => new Date(now) };
  const store = openSqliteEventStore({ file: join(mkdtempSync(join(tmpdir(), 'credits-executor-')), 'events.sqlite') });
  const lease = (holder: string) => new ReactorLease(store, holder, clock, { ttlMs: 15_000 });
  const { performer, inFlight, finish } = heldPerformer({ concurrency: 1 });
  const { work, executor, look } = executorOver(performer, { lease: lease('a'), clock });
  work.schedule('x/refund', {}, T0 - 100);
  await look();
  expect(inFlight()).toEqual(['x/refund']); // a slow Stripe call, or a receiver that takes its time
  // Nothing else is due; the attempt is still on its way 10 s on, and 20 s on.
  now += 10_000;
  await look();
  now += 10_000;
  await look();
  expect(await lease('b').hold()).toBe(false);
  // A shutdown waits for it, and keeps the lease while it does.
  const stopping = executor.stop();
  now += 20_000; // past the last renewal's 15 s
  await new Promise((resolve) => setTimeout(resolve, 1_100)); // it renews every second while it waits
  expect(await lease('b').hold()).toBe(false);
  finish('x/refund', undefined);
  await stopping;
  // Given up at the stop: another replica takes it at once.
  expect(await lease('b').hold()).toBe(true);
  await store.close();
});

it('performs none of a reaction’s work while its derivation has stopped at an event it cannot apply', async () => {
  const { performer, inFlight, finish } = heldPerformer({ concurrency: 5 });
  let stopped = true;
  const { work, executor, look } = executorOver(performer, { derivationStopped: () => stopped });
  work.schedule('a/m1', {}, T0 - 100);
  await look();
  expect(inFlight()).toEqual([]); // its work may be as the stop left it: nothing is sent from it
  stopped = false; // an operator rebuilt it
  await look();
  expect(inFlight()).toEqual(['a/m1']);
  finish('a/m1', undefined);
  await executor.stop();
});
