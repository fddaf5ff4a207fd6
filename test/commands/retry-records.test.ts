/**
 * Memory bounded by configuration: with a retry record store, a workspace keeps at most
 * `retryRecordsInMemory` remembered spends (and a tenth more, which leave together); older ones
 * go to the store, and a retry of one of them still gets its first answer, from a warm state, a
 * cold one loaded from a snapshot, or one folded from the log. Stored spends of another history are
 * forgotten, and a snapshot whose older spends the store lacks is not used.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkspaceCreditsCommandHandler, type CommandHandlerOptions } from '../../src/commands/command-handler';
import { approximateStateBytes } from '../../src/commands/workspace-states';
import { availableCredits } from '../../src/domain/drawdown';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';
import { workspaceStreamName } from '../../src/events/workspace-stream';
import { openFileSnapshotStore } from '../../src/snapshots/file-snapshot-store';
import type { RetryRecordStore } from '../../src/snapshots/port';
import { openSqliteRetryRecords } from '../../src/snapshots/sqlite-retry-records';
import type { ReserveCredits } from '../../src/domain/commands';
import { holdIdWithKey } from '../../src/domain/decisions/hold-of';
import { grantOn, spendOn } from './commands';

const WORKSPACE = 'ws-retry';
const STREAM = workspaceStreamName(WORKSPACE);
const now = new Date();
const metadata = { actorId: 'test' };
const IN_MEMORY = 10;

const spend = (i: number, units = 1) => {
  const command = spendOn(WORKSPACE, i, 2, now);
  return { ...command, data: { ...command.data, units } };
};

function setUp() {
  const dir = mkdtempSync(join(tmpdir(), 'credits-retry-records-'));
  const store = openSqliteEventStore({ file: join(dir, 'events.sqlite') });
  const snapshots = openFileSnapshotStore(join(dir, 'snapshots'));
  const retryFile = join(dir, 'retry-records.sqlite');
  const opened: RetryRecordStore[] = [];
  const openRetryRecords = () => {
    const retryRecords = openSqliteRetryRecords(retryFile);
    opened.push(retryRecords);
    return retryRecords;
  };
  const problems: string[] = [];
  const rejected: string[] = [];
  const handler = (options: CommandHandlerOptions = {}) =>
    new WorkspaceCreditsCommandHandler(store, {
      snapshots,
      retryRecords: openRetryRecords(),
      retryRecordsInMemory: IN_MEMORY,
      onRetryRecordsProblem: (_stream, problem) => problems.push(problem),
      onSnapshotRejected: (_stream, reason) => rejected.push(reason),
      ...options,
    });
  const closeRetryRecords = () => opened.splice(0).forEach((retryRecords) => retryRecords.close());
  return { dir, store, handler, retryFile, problems, rejected, closeRetryRecords };
}

/** Seeds the workspace and spends `count` times, keys k0..k<count-1>, one append each. */
async function history(handler: WorkspaceCreditsCommandHandler, count: number): Promise<void> {
  await handler.handle(grantOn(WORKSPACE, 100_000, 'seed', now), metadata, () => undefined);
  for (let i = 0; i < count; i++) await handler.handle(spend(i), metadata, () => undefined);
  await handler.idle();
}

const inMemory = async (handler: WorkspaceCreditsCommandHandler) =>
  (await handler.handle(spend(1_000_000), metadata, (state) => state.consumptions.size)).result;

/** A retry of the i-th spend: its first answer, nothing appended. */
async function expectFirstAnswer(handler: WorkspaceCreditsCommandHandler, i: number): Promise<void> {
  const retry = await handler.handle(spend(i), metadata, (state) => state.consumptions.get(`k${i}`)?.consumptionId);
  expect(retry).toEqual({ result: `c${i}`, events: [], position: undefined });
}

const balance = async (handler: WorkspaceCreditsCommandHandler) =>
  (
    await handler.handle(grantOn(WORKSPACE, 100_000, 'seed', now), metadata, (state) =>
      availableCredits(state.grants.values(), now.getTime()),
    )
  ).result;

/** The i-th hold: two person enrichments (4 credits) reserved with key r<i>. */
const reserve = (i: number, units = 2): ReserveCredits => ({
  type: 'ReserveCredits',
  data: {
    workspaceId: WORKSPACE,
    holdId: `h${i}`,
    idempotencyKey: `r${i}`,
    action: 'PERSON_ENRICHMENT',
    units,
    creditsPerUnit: 2,
    actorId: 'service',
    now,
  },
});
const settleHold = (i: number) => ({
  type: 'SettleCreditHold' as const,
  data: {
    workspaceId: WORKSPACE,
    holdId: `h${i}`,
    idempotencyKey: `s${i}`,
    units: 1,
    takeExcessFromBalance: false,
    consumptionId: `settled-${i}`,
    actorId: 'service',
    now,
  },
});
const releaseHold = (i: number) => ({
  type: 'ReleaseCreditHold' as const,
  data: { workspaceId: WORKSPACE, holdId: `h${i}`, releasedBy: 'service', now },
});
const extendHold = (i: number) => ({
  type: 'ExtendCreditHold' as const,
  data: {
    workspaceId: WORKSPACE,
    holdId: `h${i}`,
    expiresAt: new Date(now.getTime() + 60_000),
    extendedBy: 'service',
    now,
  },
});

/** Seeds the workspace and makes `count` holds, settling the even ones (1 of 2 units) and releasing the odd. */
async function holdHistory(handler: WorkspaceCreditsCommandHandler, count: number): Promise<void> {
  await handler.handle(grantOn(WORKSPACE, 100_000, 'seed', now), metadata, () => undefined);
  for (let i = 0; i < count; i++) {
    await handler.handle(reserve(i), metadata, () => undefined);
    await handler.handle(i % 2 === 0 ? settleHold(i) : releaseHold(i), metadata, () => undefined);
  }
  await handler.idle();
}

const closedInMemory = async (handler: WorkspaceCreditsCommandHandler) =>
  (await handler.handle(grantOn(WORKSPACE, 100_000, 'seed', now), metadata, (state) => state.closedHolds.size)).result;

/** A retry of the i-th reserve: the hold it made, as it is now, with nothing appended. */
async function expectFirstHold(handler: WorkspaceCreditsCommandHandler, i: number): Promise<void> {
  const retry = await handler.handle(reserve(i), metadata, (state) => {
    const hold = state.closedHolds.get(holdIdWithKey(state, `r${i}`) ?? '');
    return hold && { holdId: hold.holdId, status: hold.status };
  });
  expect(retry).toEqual({
    result: { holdId: `h${i}`, status: i % 2 === 0 ? 'SETTLED' : 'RELEASED' },
    events: [],
    position: undefined,
  });
}

it('keeps at most the bound of closed holds in memory and answers for older ones from the store', async () => {
  const { handler } = setUp();
  const warm = handler();
  await holdHistory(warm, 100);
  expect(await closedInMemory(warm)).toBeLessThanOrEqual(IN_MEMORY + IN_MEMORY / 10);
  const before = await balance(warm);
  expect(before).toBe(100_000 - 2 * 50);

  // Retries of old reserves get the hold they made, even many decided together.
  await expectFirstHold(warm, 0);
  await expectFirstHold(warm, 1);
  const burst = await Promise.all(Array.from({ length: 80 }, (_, i) => warm.handle(reserve(i), metadata, () => 0)));
  expect(burst.flatMap((retry) => retry.events)).toEqual([]);
  // The same key for another request is refused, as when the hold was in memory.
  await expect(warm.handle(reserve(4, 3), metadata, () => undefined)).rejects.toMatchObject({
    code: 'IDEMPOTENCY_KEY_REUSED',
  });
  // A settle retried with its key gets its first answer; what cannot be done to a closed hold is refused with its status.
  const settledAgain = await warm.handle(settleHold(2), metadata, (state) => state.closedHolds.get('h2')?.settlement);
  expect(settledAgain.events).toEqual([]);
  expect(settledAgain.result).toMatchObject({ idempotencyKey: 's2', consumptionId: 'settled-2', credits: 2 });
  await expect(warm.handle(settleHold(3), metadata, () => undefined)).rejects.toMatchObject({ code: 'HOLD_RELEASED' });
  await expect(warm.handle(releaseHold(6), metadata, () => undefined)).rejects.toMatchObject({ code: 'HOLD_SETTLED' });
  await expect(warm.handle(extendHold(5), metadata, () => undefined)).rejects.toMatchObject({ code: 'HOLD_RELEASED' });
  expect((await warm.handle(releaseHold(7), metadata, () => undefined)).events).toEqual([]);
  // A hold that never was is still unknown.
  await expect(warm.handle(settleHold(1_000), metadata, () => undefined)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  expect(await balance(warm)).toBe(before);
});

it('answers for stored closed holds after a restart, from a snapshot or from the whole log', async () => {
  const { handler, closeRetryRecords, rejected } = setUp();
  const first = handler({ snapshotEvery: 25, snapshotIntervalMs: 0 });
  await holdHistory(first, 60);
  await first.close();
  closeRetryRecords();

  const fromSnapshot = handler();
  await expectFirstHold(fromSnapshot, 2);
  await expect(fromSnapshot.handle(settleHold(9), metadata, () => undefined)).rejects.toMatchObject({
    code: 'HOLD_RELEASED',
  });
  expect(rejected).toEqual([]);
  expect(await closedInMemory(fromSnapshot)).toBeLessThanOrEqual(IN_MEMORY + IN_MEMORY / 10);

  const folded = handler({ snapshots: undefined });
  expect(await closedInMemory(folded)).toBeLessThanOrEqual(IN_MEMORY + IN_MEMORY / 10);
  await expectFirstHold(folded, 3);
  await expect(folded.handle(releaseHold(0), metadata, () => undefined)).rejects.toMatchObject({
    code: 'HOLD_SETTLED',
  });
});

it('stores closed holds by key (the newest for a key used again) and finds them by id, and forgets them by age', () => {
  const { retryFile } = setUp();
  const records = openSqliteRetryRecords(retryFile);
  const mark = { log: 'log-1', revision: 7n, eventId: 'e7' };
  records.keep(
    STREAM,
    {
      spends: [{ idempotencyKey: 'k1', consumedAt: 2_000, line: 'spend' }],
      holds: [
        { holdId: 'old', idempotencyKey: 'same', closedAt: 1_000, line: '["old"]' },
        { holdId: 'new', idempotencyKey: 'same', closedAt: 9_000, line: '["new"]' },
      ],
    },
    mark,
  );
  expect(records.find(STREAM, 'k1')?.line).toBe('spend');
  expect(records.mark(STREAM)).toEqual(mark);
  // A key used again (after the retention window) keeps its newest hold, whichever comes first.
  expect(records.findHoldWithKey(STREAM, 'same')?.holdId).toBe('new');
  expect(records.findHold(STREAM, 'new')?.line).toBe('["new"]');
  expect(records.findHold(STREAM, 'old')).toBeUndefined();
  records.keep(
    STREAM,
    { spends: [], holds: [{ holdId: 'old', idempotencyKey: 'same', closedAt: 1_000, line: '["old"]' }] },
    mark,
  );
  expect(records.findHold(STREAM, 'new')?.line).toBe('["new"]');
  records.keep(
    STREAM,
    { spends: [], holds: [{ holdId: 'other', idempotencyKey: 'other-key', closedAt: 3_000, line: '["other"]' }] },
    mark,
  );
  expect(records.findHold('another-stream', 'other')).toBeUndefined();
  expect(records.forgetBefore(5_000, 10)).toBe(2);
  expect(records.find(STREAM, 'k1')).toBeUndefined();
  expect(records.findHold(STREAM, 'other')).toBeUndefined();
  expect(records.findHoldWithKey(STREAM, 'same')?.holdId).toBe('new');
  records.forget(STREAM);
  expect(records.findHold(STREAM, 'new')).toBeUndefined();
  expect(records.mark(STREAM)).toBeUndefined();
  records.close();
});

it('stores the spends and holds leaving memory at one commit in one write, with its mark', async () => {
  const { store, retryFile } = setUp();
  const sqlite = openSqliteRetryRecords(retryFile);
  const writes: { spends: number; holds: number; revision: bigint }[] = [];
  const recording: RetryRecordStore = {
    ...sqlite,
    keep: (stream, records, mark) => {
      writes.push({ spends: records.spends.length, holds: records.holds.length, revision: mark.revision });
      sqlite.keep(stream, records, mark);
    },
  };
  const handler = new WorkspaceCreditsCommandHandler(store, {
    retryRecords: recording,
    retryRecordsInMemory: IN_MEMORY,
  });
  await handler.handle(grantOn(WORKSPACE, 100_000, 'seed', now), metadata, () => undefined);
  for (let i = 0; i < IN_MEMORY; i++) {
    await handler.handle(spend(i), metadata, () => undefined);
    await handler.handle(reserve(i), metadata, () => undefined);
    await handler.handle(releaseHold(i), metadata, () => undefined);
  }
  await handler.handle(reserve(IN_MEMORY), metadata, () => undefined);
  expect(writes).toEqual([]);
  // One batch takes both past the bound: one write, of both, at its revision.
  await Promise.all([
    handler.handle(spend(IN_MEMORY), metadata, () => undefined),
    handler.handle(releaseHold(IN_MEMORY), metadata, () => undefined),
  ]);
  const revision = (await store.streamRevision(STREAM)) as bigint;
  expect(writes).toEqual([{ spends: 1, holds: 1, revision }]);
  expect(sqlite.mark(STREAM)?.revision).toBe(revision);
  sqlite.close();
});

it('keeps at most the bound in memory and answers a retry of an older spend from the store', async () => {
  const { handler } = setUp();
  const warm = handler();
  await history(warm, 100);
  expect(await inMemory(warm)).toBeLessThanOrEqual(IN_MEMORY + IN_MEMORY / 10);
  await expectFirstAnswer(warm, 0);
  await expectFirstAnswer(warm, 57);
  // The same key for another request is refused, as when the spend was in memory.
  await expect(warm.handle(spend(3, 2), metadata, () => undefined)).rejects.toMatchObject({
    code: 'IDEMPOTENCY_KEY_REUSED',
  });
  expect(await balance(warm)).toBe(100_000 - 2 * 101);
});

it('answers a burst of retries of stored spends decided together, however many', async () => {
  const { handler } = setUp();
  const warm = handler();
  await history(warm, 200);
  const before = await balance(warm);
  // One batch: every retry is brought back from the store before the batch is decided.
  const retries = await Promise.all(
    Array.from({ length: 150 }, (_, i) =>
      warm.handle(spend(i), metadata, (state) => state.consumptions.get(`k${i}`)?.consumptionId),
    ),
  );
  expect(retries.map((retry) => retry.result)).toEqual(Array.from({ length: 150 }, (_, i) => `c${i}`));
  expect(retries.every((retry) => retry.events.length === 0)).toBe(true);
  expect(await balance(warm)).toBe(before);
});

it('answers retries of stored spends after a restart, from a snapshot or from the whole log', async () => {
  const { handler, closeRetryRecords, rejected } = setUp();
  const first = handler({ snapshotEvery: 25, snapshotIntervalMs: 0 });
  await history(first, 100);
  await first.close();
  closeRetryRecords();

  const fromSnapshot = handler();
  await expectFirstAnswer(fromSnapshot, 2);
  await expectFirstAnswer(fromSnapshot, 98);
  expect(rejected).toEqual([]);
  expect(await inMemory(fromSnapshot)).toBeLessThanOrEqual(IN_MEMORY + IN_MEMORY / 10);

  // Without snapshots, the fold takes the spends to the store as it passes them.
  const folded = handler({ snapshots: undefined });
  expect(await inMemory(folded)).toBeLessThanOrEqual(IN_MEMORY + IN_MEMORY / 10);
  await expectFirstAnswer(folded, 1);
  expect(await balance(folded)).toBe(100_000 - 2 * 101);
});

it('does not use a snapshot whose older spends are missing from the store, and fills the store again', async () => {
  const { handler, retryFile, closeRetryRecords, rejected } = setUp();
  const first = handler({ snapshotEvery: 25, snapshotIntervalMs: 0 });
  await history(first, 100);
  await first.close();
  closeRetryRecords();
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${retryFile}${suffix}`, { force: true });

  const cold = handler();
  // Had the snapshot been believed, this retry would be charged as a new spend.
  await expectFirstAnswer(cold, 4);
  expect(rejected).toEqual([
    expect.stringMatching(
      /^its older remembered spends, taken from events up to revision \d+, are not in the retry record store \(it has none\)$/,
    ),
  ]);
  expect(await balance(cold)).toBe(100_000 - 2 * 100);
  await cold.close();
  closeRetryRecords();
  // The fold put them back: the next cold start believes its snapshot again.
  const again = handler();
  await expectFirstAnswer(again, 5);
  expect(rejected).toHaveLength(1);
});

it('forgets stored spends of another history (an older copy of the log) and answers from the log', async () => {
  const { dir, store, handler, closeRetryRecords, problems } = setUp();
  const first = handler();
  await first.handle(grantOn(WORKSPACE, 100_000, 'seed', now), metadata, () => undefined);
  await store.close(); // the whole log in events.sqlite: keep a copy of it, the seed only
  copyFileSync(join(dir, 'events.sqlite'), join(dir, 'backup.sqlite'));
  const live = openSqliteEventStore({ file: join(dir, 'events.sqlite') });
  const writer = new WorkspaceCreditsCommandHandler(live, {
    retryRecords: openSqliteRetryRecords(join(dir, 'retry-records.sqlite')),
    retryRecordsInMemory: IN_MEMORY,
  });
  for (let i = 0; i < 50; i++) await writer.handle(spend(i), metadata, () => undefined);
  await writer.close();
  await live.close();

  // The backup restored: the spends k0..k49 are gone from the log, and stored for retries.
  const restored = openSqliteEventStore({ file: join(dir, 'backup.sqlite') });
  const cold = new WorkspaceCreditsCommandHandler(restored, {
    retryRecords: openSqliteRetryRecords(join(dir, 'retry-records.sqlite')),
    retryRecordsInMemory: IN_MEMORY,
    onRetryRecordsProblem: (_stream, problem) => problems.push(problem),
  });
  // k0 is a new spend to this log: charged, not answered from the stored spend of the lost history.
  const again = await cold.handle(spend(0), metadata, () => undefined);
  expect(again.events.map((event) => event.type)).toEqual(['CreditsConsumed']);
  expect(problems).toEqual([
    expect.stringMatching(
      /^its stored spends were taken from another history \(no event \S+ at revision \d+ of log \w+\): forgotten$/,
    ),
  ]);
  await restored.close();
  closeRetryRecords();
});

it('keeps the spends in memory while the store fails, and still answers retries', async () => {
  const { store, problems } = setUp();
  const failing: RetryRecordStore = {
    mark: () => undefined,
    keep: () => {
      throw new Error('disk full');
    },
    find: () => undefined,
    findHold: () => undefined,
    findHoldWithKey: () => undefined,
    forget: () => undefined,
    forgetBefore: () => 0,
    close: () => undefined,
  };
  const handler = new WorkspaceCreditsCommandHandler(store, {
    retryRecords: failing,
    retryRecordsInMemory: IN_MEMORY,
    onRetryRecordsProblem: (_stream, problem) => problems.push(problem),
  });
  await history(handler, 30);
  expect(await inMemory(handler)).toBe(31);
  await expectFirstAnswer(handler, 0);
  expect(problems[0]).toBe('the store failed, the spends and holds stay in memory: disk full');
});

it('bounds the cached states by their approximate bytes, the least recently used going first', async () => {
  const { store } = setUp();
  const handler = new WorkspaceCreditsCommandHandler(store, { stateCacheBytes: 1 });
  await history(handler, 3);
  const loaded = await handler.load(STREAM);
  expect(approximateStateBytes(loaded.state)).toBeGreaterThan(1);
  // Nothing fits in one byte: every command loads the workspace afresh, and decides the same.
  await expectFirstAnswer(handler, 1);
  expect(await balance(handler)).toBe(100_000 - 2 * 3);
});
