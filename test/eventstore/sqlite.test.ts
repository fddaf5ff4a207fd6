import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AppendSignal, PollingSubscription } from '../../src/eventstore/polling-subscription';
import { ExpectedRevisionConflict, StoreUnavailable, type RecordedEvent } from '../../src/eventstore/port';
import { AppendThread } from '../../src/eventstore/sqlite/append-thread';
import { openSqliteEventStore, type SqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';
import { describeEventStoreContract, take } from './contract';

const CHILD = join(__dirname, 'fixtures', 'event-store-child.js');

function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'credits-eventstore-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

describeEventStoreContract('SQLite', async () => {
  const { dir, remove } = tempDir();
  const store = openSqliteEventStore({ file: join(dir, 'events.db') });
  return {
    store,
    cleanup: async () => {
      await store.close();
      remove();
    },
  };
});

describe('SQLite event store', () => {
  let dir: string;
  let remove: () => void;
  let file: string;
  const opened: SqliteEventStore[] = [];
  const open = (pollIntervalMs?: number) => {
    const store = openSqliteEventStore(pollIntervalMs === undefined ? { file } : { file, pollIntervalMs });
    opened.push(store);
    return store;
  };

  beforeEach(() => {
    ({ dir, remove } = tempDir());
    file = join(dir, 'nested', 'deeper', 'events.db');
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
    remove();
  });

  it('creates the directory and an empty log, with the schema version recorded and WAL on', async () => {
    const store = open();
    expect(await store.headPosition()).toBeUndefined();
    expect(await store.readAll()).toEqual([]);

    const raw = new Database(file, { readonly: true });
    try {
      expect(raw.pragma('user_version', { simple: true })).toBe(2);
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      const columns = raw.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('events')").all();
      expect(columns.map((c) => c.name)).toEqual([
        'position',
        'event_id',
        'stream_name',
        'stream_revision',
        'event_type',
        'schema_version',
        'data',
        'metadata',
        'recorded_at',
      ]);
    } finally {
      raw.close();
    }
  });

  it('makes the log its identity once, keeps it across reopens, and a new file gets another', async () => {
    const first = open();
    const identity = await first.identity();
    await first.close();
    expect(await open().identity()).toBe(identity);
    const raw = new Database(file, { readonly: true });
    expect(raw.prepare("SELECT value FROM store_metadata WHERE key = 'identity'").pluck().get()).toBe(identity);
    raw.close();

    // The same path after the file was deleted is another log.
    await Promise.all(opened.splice(0).map((store) => store.close()));
    rmSync(dir, { recursive: true, force: true });
    expect(await open().identity()).not.toBe(identity);
  });

  it('gives a file of the first schema an identity when it opens it', async () => {
    const raw = new Database(file.replace('nested/deeper/', ''));
    raw.exec(
      `CREATE TABLE events (position INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE,
         stream_name TEXT NOT NULL, stream_revision INTEGER NOT NULL, event_type TEXT NOT NULL,
         schema_version INTEGER NOT NULL DEFAULT 1, data TEXT NOT NULL, metadata TEXT NOT NULL,
         recorded_at TEXT NOT NULL, UNIQUE (stream_name, stream_revision))`,
    );
    raw.pragma('user_version = 1');
    raw.close();
    file = file.replace('nested/deeper/', '');
    const store = open();
    expect(await store.identity()).toMatch(/^[0-9a-f]{32}$/);
    expect(await store.headPosition()).toBeUndefined();
  });

  it('refuses a file whose schema is newer than this release knows', async () => {
    await open().close();
    const raw = new Database(file);
    raw.pragma('user_version = 99');
    raw.close();
    expect(() => openSqliteEventStore({ file })).toThrow(/schema version 99/);
  });

  it('keeps every event across a reopen and continues positions after them', async () => {
    const first = open();
    await first.appendToStream(
      's',
      [
        { type: 'A', data: { n: 1 } },
        { type: 'A', data: { n: 2 } },
      ],
      { expectedRevision: 'no_stream' },
    );
    const { position } = await first.appendToStream('t', [{ type: 'B', data: {} }], { expectedRevision: 'no_stream' });
    const before = await first.readAll();
    await first.close();

    const second = open();
    expect(await second.readAll()).toEqual(before);
    expect(await second.headPosition()).toBe(position);
    expect(await second.streamRevision('s')).toBe(1n);
    const next = await second.appendToStream('s', [{ type: 'A', data: { n: 3 } }], { expectedRevision: 1n });
    expect(next.nextExpectedRevision).toBe(2n);
    expect(next.position).toBeGreaterThan(position);
  });

  // Without a failing append the group is written directly; one that fails for another reason than
  // its revision sends the group down the path with a savepoint per append.
  it.each([
    ['all revisions checked up front', false],
    ['one append reusing an event id', true],
  ])('commits the appends of one turn together, each judged on its own: %s', async (_name, reuseId) => {
    const store = open();
    const taken = randomUUID();
    await store.appendToStream('s', [{ id: taken, type: 'A', data: {} }], { expectedRevision: 'no_stream' });
    let commits = 0;
    store.onAppended(() => commits++);
    // Asked for in one turn: a good append, two racing for one revision, one that follows an
    // earlier append of the same turn on the same stream, and maybe one reusing an event id.
    const outcomes = await Promise.allSettled([
      store.appendToStream('t', [{ type: 'B', data: {} }], { expectedRevision: 'no_stream' }),
      store.appendToStream('s', [{ type: 'A', data: { n: 1 } }], { expectedRevision: 0n }),
      store.appendToStream('s', [{ type: 'A', data: { n: 2 } }], { expectedRevision: 0n }),
      store.appendToStream('s', [{ type: 'A', data: { n: 3 } }], { expectedRevision: 1n }),
      store.appendToStream('u', [{ ...(reuseId && { id: taken }), type: 'C', data: {} }], {
        expectedRevision: 'no_stream',
      }),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      reuseId ? 'rejected' : 'fulfilled',
    ]);
    expect((outcomes[2] as PromiseRejectedResult).reason).toBeInstanceOf(ExpectedRevisionConflict);
    if (reuseId) expect((outcomes[4] as PromiseRejectedResult).reason).not.toBeInstanceOf(ExpectedRevisionConflict);
    expect(commits).toBe(1);
    const log = await store.readAll();
    expect(log.map((event) => [event.streamName, event.revision, event.data])).toEqual([
      ['s', 0n, {}],
      ['t', 0n, {}],
      ['s', 1n, { n: 1 }],
      ['s', 2n, { n: 3 }],
      ...(reuseId ? [] : [['u', 0n, {}]]),
    ]);
  });

  it('refuses appends when opened read-only, and reads what another connection appended', async () => {
    const writer = open();
    await writer.ready();
    await writer.appendToStream('s', [{ type: 'A', data: { n: 1 } }], { expectedRevision: 'no_stream' });
    const reader = openSqliteEventStore({ file, readOnly: true });
    opened.push(reader);
    await reader.ready();
    await expect(reader.appendToStream('s', [{ type: 'A', data: {} }], { expectedRevision: 0n })).rejects.toThrow(
      /read-only/,
    );
    expect((await reader.readAll()).map((event) => event.data)).toEqual([{ n: 1 }]);
    expect(await reader.streamRevision('s')).toBe(0n);
  });

  it('refuses every append, and says why, once its append thread has failed', async () => {
    // The thread cannot open its connection: the file would be in a directory under a regular file.
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, 'not a directory');
    const thread = new AppendThread(join(blocker, 'events.db'), () => undefined);
    await thread.ready();
    expect(thread.failed?.message).toMatch(/EEXIST|ENOTDIR/);
    const append = { stream: 's', rows: [], expected: 'any' as const };
    await expect(thread.append(append)).rejects.toBe(thread.failed);
    await thread.close();
  });

  it('refuses an append the disk cannot take as StoreUnavailable, records none of it, and says it cannot write', async () => {
    const store = openSqliteEventStore({ file, maxPages: 64 });
    opened.push(store);
    const event = (i: number) => ({ type: 'Filled', data: { i, padding: 'x'.repeat(8_000) } });
    let refused: unknown;
    let appended = 0;
    for (let i = 0; i < 200 && refused === undefined; i++) {
      await store.appendToStream('full', [event(i)], { expectedRevision: 'any' }).then(
        () => (appended += 1),
        (error: unknown) => (refused = error),
      );
    }
    expect(refused).toBeInstanceOf(StoreUnavailable);
    expect(refused).toMatchObject({ code: 'STORE_UNAVAILABLE', retryable: true });
    expect((refused as Error).message).toMatch(
      /^Nothing was recorded: the event store cannot write now \(database or disk is full\)/,
    );
    // Nothing of the refused append is in the log, and the store says it cannot write.
    const recorded: RecordedEvent[] = [];
    for await (const each of store.readStream('full')) recorded.push(each);
    expect(recorded).toHaveLength(appended);
    expect(appended).toBeGreaterThan(0);
    expect(store.appendFailure?.message).toBe('database or disk is full');
    // An append that writes nothing proves nothing: the store still says it cannot write.
    await store.appendToStream('full', [], { expectedRevision: 'any' });
    expect(store.appendFailure?.message).toBe('database or disk is full');
  });

  it('wakes a subscriber on a local append without waiting for the poll', async () => {
    const store = open(60_000);
    const iterator = store.subscribeToAll()[Symbol.asyncIterator]();
    const next = take(iterator, 1, 1000);
    await delay(50);
    await store.appendToStream('s', [{ type: 'A', data: {} }], { expectedRevision: 'any' });
    expect(await next).toHaveLength(1);
  });

  it("polls for another connection's appends, delivering them once", async () => {
    const follower = open(50);
    const writer = open();
    const iterator = follower.subscribeToAll()[Symbol.asyncIterator]();
    const received = take(iterator, 4);
    await delay(30);
    await writer.appendToStream('elsewhere', [{ type: 'A', data: { n: 0 } }], { expectedRevision: 'no_stream' });
    await delay(120);
    await writer.appendToStream(
      'elsewhere',
      [1, 2, 3].map((n) => ({ type: 'A', data: { n } })),
      { expectedRevision: 0n },
    );

    expect((await received).map((e) => e.data.n)).toEqual([0, 1, 2, 3]);
    expect(await Promise.race([iterator.next(), delay(300).then(() => 'nothing more')])).toBe('nothing more');
  });

  it("sees another connection's appends when checking the expected revision", async () => {
    const mine = open();
    const theirs = open();
    await mine.appendToStream('shared', [{ type: 'A', data: {} }], { expectedRevision: 'no_stream' });
    await theirs.appendToStream('shared', [{ type: 'A', data: {} }], { expectedRevision: 0n });
    const refused = mine.appendToStream('shared', [{ type: 'A', data: {} }], { expectedRevision: 0n });
    await expect(refused).rejects.toBeInstanceOf(ExpectedRevisionConflict);
    await expect(refused).rejects.toMatchObject({ stream: 'shared', expected: 0n, actual: 1n });
  });

  it('keeps every acknowledged append after kill -9', async () => {
    const stream = `ticks-${randomUUID()}`;
    const child = spawn(process.execPath, [CHILD, 'append', file, stream, '100000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acknowledged: bigint[] = [];
    let stderr = '';
    let pending = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop()!;
      for (const line of lines) acknowledged.push(BigInt(line));
      if (acknowledged.length >= 200 && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    // 'close' rather than 'exit': it comes after stdout is drained, so no acknowledgement is missed.
    const signal = await new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('close', (_code, sig) => resolve(sig)),
    );
    expect({ signal, stderr }).toEqual({ signal: 'SIGKILL', stderr: '' });
    expect(acknowledged.length).toBeGreaterThanOrEqual(200);
    expect(acknowledged).toEqual(acknowledged.map((_, i) => BigInt(i)));

    const store = open();
    const events = await readStream(store, stream);
    // Every acknowledged event is there; at most the one in flight at the kill may be there too.
    expect(events.length).toBeGreaterThanOrEqual(acknowledged.length);
    expect(events.length).toBeLessThanOrEqual(acknowledged.length + 1);
    expect(events.every((e, i) => e.revision === BigInt(i) && e.data.i === i)).toBe(true);
    const next = await store.appendToStream(stream, [{ type: 'Ticked', data: {} }], {
      expectedRevision: BigInt(events.length - 1),
    });
    expect(next.nextExpectedRevision).toBe(BigInt(events.length));
  });

  it('serialises appends from several processes on one file', async () => {
    const stream = `raced-${randomUUID()}`;
    const writers = ['w0', 'w1', 'w2', 'w3'];
    const perWriter = 50;
    open(); // creates the schema up front, so the children only race on appends
    const children = writers.map((writer) => {
      const child = spawn(process.execPath, [CHILD, 'race', file, stream, String(perWriter), writer]);
      const output = { stdout: '', stderr: '' };
      const ready = new Promise<void>((resolve) =>
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          output.stdout += chunk;
          if (output.stdout.startsWith('ready\n')) resolve();
        }),
      );
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
      const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
      return { child, output, ready, closed };
    });
    // Start them together once all have loaded, so that they really contend for the file.
    await Promise.all(children.map((c) => Promise.race([c.ready, c.closed])));
    for (const { child } of children) child.stdin.end('go\n');
    const codes = await Promise.all(children.map((c) => c.closed));

    expect(
      children.map((c, i) => ({
        code: codes[i],
        stderr: c.output.stderr,
        done: /^ready\ndone \d+\n$/.test(c.output.stdout),
      })),
    ).toEqual(writers.map(() => ({ code: 0, stderr: '', done: true })));
    const conflicts = children.reduce((sum, c) => sum + Number(/done (\d+)/.exec(c.output.stdout)![1]), 0);
    // Guards the test itself: with no conflict at all the writers never actually overlapped.
    expect(conflicts).toBeGreaterThan(0);

    const events = await readStream(opened[0]!, stream);
    expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => BigInt(i)));
    expect(events).toHaveLength(writers.length * perWriter);
    for (const writer of writers) {
      const mine = events.filter((e) => e.data.writer === writer).map((e) => e.data.i);
      expect(mine).toEqual(Array.from({ length: perWriter }, (_, i) => i));
    }
  });
});

describe('polling subscription', () => {
  it('does not lose a wake-up that arrives while a page is being read', async () => {
    const signal = new AppendSignal();
    const event = { position: 1n } as RecordedEvent;
    let reads = 0;
    const subscription = new PollingSubscription({
      after: undefined,
      signal,
      pollIntervalMs: 60_000,
      readPage: async () => {
        reads++;
        if (reads === 1) {
          signal.notify(); // an append commits after this read took its snapshot
          return [];
        }
        return reads === 2 ? [event] : [];
      },
    });
    try {
      expect(await take(subscription[Symbol.asyncIterator](), 1, 1000)).toEqual([event]);
    } finally {
      await subscription.close();
    }
  });
});

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function readStream(store: SqliteEventStore, stream: string): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for await (const event of store.readStream(stream)) events.push(event);
  return events;
}
