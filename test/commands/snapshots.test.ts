/**
 * With a snapshot store, the command handler takes snapshots as a workspace's stream grows, loads a
 * cold workspace from its latest snapshot plus the events after it, and never trusts a snapshot of
 * another history or another version.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkspaceCreditsCommandHandler } from '../../src/commands/command-handler';
import { availableCredits } from '../../src/domain/drawdown';
import { initialState } from '../../src/domain/state';
import { encodeState, STATE_SNAPSHOT_VERSION } from '../../src/domain/state-snapshot';
import type { EventStore, ReadStreamOptions } from '../../src/eventstore/port';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';
import { workspaceStreamName } from '../../src/events/workspace-stream';
import { openFileSnapshotStore } from '../../src/snapshots/file-snapshot-store';
import { SnapshotRejected, type SnapshotStore } from '../../src/snapshots/port';
import { grantOn, spendOn } from './commands';

const WORKSPACE = 'ws-snap';
const STREAM = workspaceStreamName(WORKSPACE);
const now = new Date();
const metadata = { actorId: 'test' };

const seed = grantOn(WORKSPACE, 1000, 'seed', now);
const spend = (i: number) => spendOn(WORKSPACE, i, 2, now);

/** The stores in a fresh directory, with the reads of the workspace stream counted. */
function setUp() {
  const dir = mkdtempSync(join(tmpdir(), 'credits-snapshots-'));
  const store = openSqliteEventStore({ file: join(dir, 'events.sqlite') });
  const reads: ReadStreamOptions[] = [];
  const counted: EventStore = Object.assign(Object.create(store) as EventStore, {
    readStream: (stream: string, options: ReadStreamOptions = {}) => {
      if (stream === STREAM) reads.push(options);
      return store.readStream(stream, options);
    },
  });
  const snapshots = openFileSnapshotStore(join(dir, 'snapshots'));
  return { store, counted, snapshots, reads };
}

const available = (handler: WorkspaceCreditsCommandHandler) =>
  handler.handle({ ...spend(0) }, metadata, (state) => availableCredits(state.grants.values(), now.getTime()));

/** Seeds the workspace and spends `count` times, one append each. */
async function history(handler: WorkspaceCreditsCommandHandler, count: number): Promise<void> {
  await handler.handle(seed, metadata, () => undefined);
  for (let i = 0; i < count; i++) await handler.handle(spend(i), metadata, () => undefined);
  await handler.idle();
}

it('takes a snapshot once the state is snapshotEvery events past the last one', async () => {
  const { store, snapshots } = setUp();
  const handler = new WorkspaceCreditsCommandHandler(store, { snapshots, snapshotEvery: 10, snapshotIntervalMs: 0 });
  await history(handler, 8); // revisions 0..8: nine events
  expect(await snapshots.load(STREAM)).toBeUndefined();
  await handler.handle(spend(8), metadata, () => undefined); // revision 9: ten events
  await handler.idle();
  const snapshot = await snapshots.load(STREAM);
  expect(snapshot).toMatchObject({ revision: 9n, version: STATE_SNAPSHOT_VERSION });
  const events = [];
  for await (const event of store.readStream(STREAM, { fromRevision: 9n })) events.push(event);
  expect(snapshot?.eventId).toBe(events[0]?.id);
});

it('takes at most one snapshot per interval of a busy workspace', async () => {
  const { store, snapshots } = setUp();
  const handler = new WorkspaceCreditsCommandHandler(store, {
    snapshots,
    snapshotEvery: 5,
    snapshotIntervalMs: 60_000,
  });
  await history(handler, 30);
  expect((await snapshots.load(STREAM))?.revision).toBe(4n);
});

it('loads a cold workspace from its snapshot and the events after it, and decides the same', async () => {
  const { store, counted, snapshots, reads } = setUp();
  const writer = new WorkspaceCreditsCommandHandler(store, { snapshots, snapshotEvery: 20, snapshotIntervalMs: 0 });
  await history(writer, 25); // the snapshot is at revision 19; revisions 20..25 come after it
  expect((await snapshots.load(STREAM))?.revision).toBe(19n);

  const cold = new WorkspaceCreditsCommandHandler(counted, { snapshots });
  // A retry of a spend folded into the snapshot answers with the first result and appends nothing.
  const retry = await cold.handle(spend(3), metadata, (state) => state.consumptions.get('k3')?.consumptionId);
  expect(retry).toEqual({ result: 'c3', events: [], position: undefined });
  expect(reads).toEqual([{ fromRevision: 19n }]);
  expect((await available(cold)).result).toBe(1000 - 2 * 25);

  const full = new WorkspaceCreditsCommandHandler(store);
  // Encoding is canonical: equal texts, equal states.
  expect(encodeState((await cold.load(STREAM)).state)).toEqual(encodeState((await full.load(STREAM)).state));
});

it('folds the whole stream when the snapshot is of another history', async () => {
  const { store, counted, snapshots, reads } = setUp();
  await history(new WorkspaceCreditsCommandHandler(store), 5);
  // A snapshot of an empty workspace at revision 3, but of an event this stream never had.
  await snapshots.save({
    stream: STREAM,
    revision: 3n,
    eventId: 'not-this-stream',
    log: await store.identity(),
    version: STATE_SNAPSHOT_VERSION,
    state: encodeState(initialState()),
  });
  const cold = new WorkspaceCreditsCommandHandler(counted, { snapshots });
  expect((await available(cold)).result).toBe(1000 - 2 * 5);
  expect(reads).toEqual([{ fromRevision: 3n }, { fromRevision: 0n }]);
});

it('folds the whole stream when the snapshot is past the end of the stream or of another version', async () => {
  const { store, counted, snapshots, reads } = setUp();
  const writer = new WorkspaceCreditsCommandHandler(store, { snapshots, snapshotEvery: 3, snapshotIntervalMs: 0 });
  await history(writer, 5);
  // The writer's last snapshot (at the head) may still be being written: the good one is that one.
  await writer.idle();
  const good = (await snapshots.load(STREAM)) as NonNullable<Awaited<ReturnType<SnapshotStore['load']>>>;
  for (const unusable of [
    { ...good, revision: 99n },
    { ...good, version: STATE_SNAPSHOT_VERSION + 1 },
  ]) {
    await snapshots.save(unusable);
    const cold = new WorkspaceCreditsCommandHandler(counted, { snapshots });
    expect((await available(cold)).result).toBe(990);
    await cold.idle();
    // Replaced by a true one at the head after the command, though the stream is not 3 events past
    // it. The writer's last snapshot may be at the head (then the two are the same) or before it,
    // when its previous write was still under way as the head was appended (seen in CI).
    const head = await store.streamRevision(STREAM);
    const replaced = await snapshots.load(STREAM);
    expect(replaced).toMatchObject({ log: good.log, revision: head, version: STATE_SNAPSHOT_VERSION });
    if (good.revision === head) expect(replaced).toEqual(good);
  }
  expect(reads).toEqual([{ fromRevision: 99n }, { fromRevision: 0n }, { fromRevision: 0n }]);
});

it('folds the whole stream when the snapshot was taken from another log, and replaces it', async () => {
  const { store, counted, snapshots, reads } = setUp();
  const writer = new WorkspaceCreditsCommandHandler(store, { snapshots, snapshotEvery: 3, snapshotIntervalMs: 0 });
  await history(writer, 5);
  const good = (await snapshots.load(STREAM)) as NonNullable<Awaited<ReturnType<SnapshotStore['load']>>>;
  // Its revision and event id are this stream's: only the log's identity tells it apart.
  await snapshots.save({ ...good, log: 'another-log' });
  const rejections: string[] = [];
  const cold = new WorkspaceCreditsCommandHandler(counted, {
    snapshots,
    onSnapshotRejected: (_stream, reason) => rejections.push(reason),
  });
  expect((await available(cold)).result).toBe(990);
  expect(reads).toEqual([{ fromRevision: 0n }]);
  expect(rejections).toEqual([
    `it was taken from another log (identity another-log; this log is ${await store.identity()})`,
  ]);
  await cold.idle();
  // Replaced by one of this log at the head (the writer's last snapshot may have been at the head or
  // before it, depending on whether its previous write was still under way).
  const replaced = await snapshots.load(STREAM);
  expect(replaced).toMatchObject({ log: good.log, revision: await store.streamRevision(STREAM) });
  expect(replaced?.log).not.toBe('another-log');
});

it('folds the whole stream when the snapshot cannot be decoded', async () => {
  const { store, counted, snapshots, reads } = setUp();
  const writer = new WorkspaceCreditsCommandHandler(store, { snapshots, snapshotEvery: 3, snapshotIntervalMs: 0 });
  await history(writer, 5);
  const good = (await snapshots.load(STREAM)) as NonNullable<Awaited<ReturnType<SnapshotStore['load']>>>;
  await snapshots.save({ ...good, state: Buffer.from('{"grants": "not a list"') });
  expect((await available(new WorkspaceCreditsCommandHandler(counted, { snapshots }))).result).toBe(990);
  expect(reads).toEqual([{ fromRevision: 0n }]);
});

it('does not believe a snapshot whose numbers were changed under an intact header, and replaces it', async () => {
  const { store, snapshots } = setUp();
  const writer = new WorkspaceCreditsCommandHandler(store, { snapshots, snapshotOnCloseAfter: 1 });
  await writer.handle(grantOn(WORKSPACE, 100, 'seed', now), metadata, () => undefined);
  for (let i = 0; i < 45; i++) await writer.handle(spend(i), metadata, () => undefined);
  await writer.close(); // a snapshot at the head: 10 credits left
  const head = (await store.streamRevision(STREAM)) as bigint; // the spends and a CreditsLow
  expect((await snapshots.load(STREAM))?.revision).toBe(head);

  // Ninety more credits in the file, same length, header untouched.
  const dir = join(store.file, '..', 'snapshots');
  const [file] = readdirSync(dir);
  const text = readFileSync(join(dir, file as string), 'latin1');
  expect(text).toContain('"remaining":10,');
  writeFileSync(join(dir, file as string), text.replace('"remaining":10,', '"remaining":99,'), 'latin1');

  const rejections: string[] = [];
  const cold = new WorkspaceCreditsCommandHandler(store, {
    snapshots,
    onSnapshotRejected: (stream, reason) => rejections.push(`${stream}: ${reason}`),
  });
  // 50 credits: the tampered snapshot would cover it; the stream says 10 are left.
  const overdraw = { ...spendOn(WORKSPACE, 100, 50, now) };
  await expect(cold.handle(overdraw, metadata, () => undefined)).rejects.toMatchObject({
    code: 'INSUFFICIENT_CREDITS',
    details: { required: 50, available: 10 },
  });
  expect(rejections).toEqual([`${STREAM}: its content does not match its checksum`]);
  expect(await store.streamRevision(STREAM)).toBe(head);

  // After that command, a true snapshot replaces it, though the stream has not moved since.
  await cold.idle();
  expect(await snapshots.load(STREAM)).toMatchObject({ revision: head });
  const again = new WorkspaceCreditsCommandHandler(store, {
    snapshots,
    onSnapshotRejected: () => rejections.push('x'),
  });
  expect((await available(again)).result).toBe(10);
  expect(rejections).toHaveLength(1);
});

it('keeps answering commands when snapshots cannot be written', async () => {
  const { store } = setUp();
  const failing: SnapshotStore = {
    load: () => Promise.reject(new Error('unreadable')),
    save: () => Promise.reject(new Error('disk full')),
  };
  const handler = new WorkspaceCreditsCommandHandler(store, {
    snapshots: failing,
    snapshotEvery: 1,
    snapshotIntervalMs: 0,
  });
  await history(handler, 5);
  expect((await available(handler)).result).toBe(990);
});

it('reads back only whole snapshots of the stream asked for', async () => {
  const { snapshots } = setUp();
  const dir = mkdtempSync(join(tmpdir(), 'credits-snapshot-files-'));
  const files = openFileSnapshotStore(dir);
  const snapshot = {
    stream: STREAM,
    revision: 10n,
    eventId: 'e10',
    log: 'log-1',
    version: STATE_SNAPSHOT_VERSION,
    state: Buffer.from('{"a":1}\nx'),
  };
  await files.save(snapshot);
  expect(await files.load(STREAM)).toEqual(snapshot);
  expect(await files.load('workspace-credits-other')).toBeUndefined();
  expect(await snapshots.load(STREAM)).toBeUndefined();
  // A file cut short (as by a disk that lost its tail) is not a snapshot, and says why.
  const [file] = readdirSync(dir);
  const whole = readFileSync(join(dir, file as string), 'utf8');
  writeFileSync(join(dir, file as string), whole.slice(0, -1));
  await expect(files.load(STREAM)).rejects.toThrow(/its state has 8 bytes, not the 9 written/);
  writeFileSync(join(dir, file as string), 'garbage');
  await expect(files.load(STREAM)).rejects.toThrow(SnapshotRejected);
  // The same length with other bytes (a flipped bit, an edited number): the checksum tells.
  writeFileSync(join(dir, file as string), whole.replace('{"a":1}', '{"a":7}'));
  await expect(files.load(STREAM)).rejects.toThrow(/does not match its checksum/);
  // So does a header whose revision was changed.
  writeFileSync(join(dir, file as string), whole.replace('"revision":"10"', '"revision":"11"'));
  await expect(files.load(STREAM)).rejects.toThrow(/does not match its checksum/);
  expect(readdirSync(dir)).toHaveLength(1); // no temporary file left behind

  // Stream names may hold any character; states are ASCII, and anything else is refused.
  const named = { ...snapshot, stream: 'workspace-credits-Zürich ✓' };
  await files.save(named);
  expect(await files.load(named.stream)).toEqual(named);
  await expect(files.save({ ...named, state: Buffer.from('Zürich') })).rejects.toThrow(/ASCII/);
  expect(await files.load(named.stream)).toEqual(named);
});

it('snapshots on close every cached workspace far enough past its last snapshot, and no other', async () => {
  const { store, snapshots } = setUp();
  const other = 'ws-snap-quiet';
  const handler = new WorkspaceCreditsCommandHandler(store, {
    snapshots,
    snapshotEvery: 1000,
    snapshotOnCloseAfter: 5,
  });
  await history(handler, 6); // revisions 0..6: seven events since no snapshot
  await handler.handle(grantOn(other, 10, 'seed', now), metadata, () => undefined); // one event
  expect(await snapshots.load(STREAM)).toBeUndefined();
  await handler.close();
  expect((await snapshots.load(STREAM))?.revision).toBe(6n);
  expect(await snapshots.load(workspaceStreamName(other))).toBeUndefined();
});
