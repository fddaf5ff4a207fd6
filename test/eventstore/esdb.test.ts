/**
 * The EventStoreDB adapter, always through the real client (@eventstore/db-client) over gRPC:
 *
 * - the shared contract suite against the gRPC test server (test/support/esdb-test-server), which
 *   speaks EventStoreDB's Streams protocol over an in-memory log (this machine cannot run the
 *   database itself);
 * - the same suite against a real EventStoreDB when EVENTSTORE_URL is set
 *   (e.g. EVENTSTORE_URL='esdb://localhost:2113?tls=false' npx jest test/eventstore/esdb.test.ts);
 * - what only this adapter does: position mapping, `$all` filtering, resubscription, codec errors.
 */
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { UnknownError } from '@eventstore/db-client';
import {
  IDENTITY_STREAM,
  openEsdbEventStore,
  type EsdbEventStoreOptions,
  isLostCall,
  isTransportFailure,
} from '../../src/eventstore/esdb/esdb-event-store';
import { SCHEMA_VERSION_KEY } from '../../src/eventstore/esdb/event-codec';
import { toEsdbPosition, toPortPosition } from '../../src/eventstore/esdb/positions';
import {
  ExpectedRevisionConflict,
  LogWentBack,
  StoreUnavailable,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type RecordedEvent,
} from '../../src/eventstore/port';
import type { ProposedEvent } from '../support/esdb-test-server/in-memory-log';
import { startEsdbTestServer, type EsdbTestServer } from '../support/esdb-test-server/server';
import { describeEventStoreContract, take } from './contract';

let server: EsdbTestServer;
beforeAll(async () => {
  server = await startEsdbTestServer();
});
afterAll(async () => {
  await server?.close();
});

describeEventStoreContract('EventStoreDB (gRPC test server)', async () => {
  const store = openEsdbEventStore({ connectionString: server.url });
  return { store, cleanup: () => store.close() };
});

const realServer = process.env.EVENTSTORE_URL;
if (realServer) {
  describeEventStoreContract('EventStoreDB (real server)', async () => {
    const store = openEsdbEventStore({ connectionString: realServer });
    return { store, cleanup: () => store.close() };
  });
} else {
  it('runs the contract against a real EventStoreDB only when EVENTSTORE_URL names one (it does not here)', () => {
    expect(realServer ?? '').toBe('');
  });
}

it('takes a raw gRPC UNAVAILABLE, DEADLINE_EXCEEDED or CANCELLED status for a transport failure, and nothing else', () => {
  // What the client passes on as it came when its first call on a new channel finds the node gone.
  const status = (code: number) =>
    Object.assign(new Error(`${code} status: No connection established`), {
      code,
      details: 'No connection established',
      metadata: {},
    });
  expect([1, 4, 14].map((code) => isTransportFailure(status(code)))).toEqual([true, true, true]);
  expect([3, 5, 9, 13].map((code) => isTransportFailure(status(code)))).toEqual([false, false, false, false]);
  expect(isTransportFailure(Object.assign(new Error('ENOENT'), { code: 14 }))).toBe(false); // no gRPC details
  // A cluster none of whose nodes answered gossip: the client's plain Error, within a second.
  expect(isTransportFailure(new Error('Failed to discover after 10 attempts.'))).toBe(true);
  expect(isTransportFailure(new Error('Failed to discover the meaning of life'))).toBe(false);
});

it('takes a gRPC INTERNAL, UNKNOWN or RESOURCE_EXHAUSTED status, raw or as the client passes it on, for a lost call', () => {
  const status = (code: number) =>
    Object.assign(new Error(`${code} status: Received RST_STREAM`), { code, details: 'x', metadata: {} });
  expect([1, 2, 4, 8, 13, 14].map((code) => isLostCall(status(code)))).toEqual([true, true, true, true, true, true]);
  expect([3, 5, 6, 7, 9, 11, 12, 16].map((code) => isLostCall(status(code)))).toEqual(Array(8).fill(false));
  expect(isLostCall(new UnknownError(status(13) as never))).toBe(true);
  expect(isLostCall(new UnknownError(status(3) as never))).toBe(false);
  expect(isLostCall(Object.assign(new Error('EIO'), { code: 13 }))).toBe(false); // no gRPC details
});

describe('EventStoreDB adapter', () => {
  const opened: EventStore[] = [];
  const open = (options: Partial<EsdbEventStoreOptions> = {}, on: EsdbTestServer = server) => {
    const store = openEsdbEventStore({ connectionString: on.url, ...options });
    opened.push(store);
    return store;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });

  const json = (type: string, data: unknown, metadata?: unknown): ProposedEvent => ({
    id: randomUUID(),
    type,
    contentType: 'application/json',
    data: Buffer.from(JSON.stringify(data)),
    customMetadata: metadata === undefined ? new Uint8Array() : Buffer.from(JSON.stringify(metadata)),
  });

  describe('positions and revisions', () => {
    it("gives each event of a multi-event append its own $all offset, commit = prepare, and answers the last one's", async () => {
      const store = open();
      const stream = `multi-${randomUUID()}`;
      const result = await store.appendToStream(
        stream,
        [0, 1, 2, 3].map((n) => ({ type: 'Numbered', data: { n } })),
        { expectedRevision: 'no_stream' },
      );

      const onTheWire = server.log.stream(stream)!.map((event) => event.position);
      const read = await readStream(store, stream);
      expect(read.map((event) => event.position)).toEqual(onTheWire);
      expect(result).toEqual({ nextExpectedRevision: 3n, position: onTheWire[3] });
      // Byte offsets: increasing, not dense.
      for (let i = 1; i < onTheWire.length; i++) expect(onTheWire[i]! - onTheWire[i - 1]!).toBeGreaterThan(1n);
      // $all hands out the same positions, and resumes strictly after any of them.
      const fromAll = await store.readAll({ after: onTheWire[0]! - 1n });
      expect(fromAll.slice(0, 4).map((event) => event.position)).toEqual(onTheWire);
      expect((await store.readAll({ after: onTheWire[1]! })).slice(0, 2).map((event) => event.data.n)).toEqual([2, 3]);
    });

    it('refuses positions it cannot map rather than guess', () => {
      expect(toPortPosition({ commit: 4096n, prepare: 4096n }, 'e')).toBe(4096n);
      expect(toEsdbPosition(4096n)).toEqual({ commit: 4096n, prepare: 4096n });
      expect(() => toPortPosition({ commit: 5000n, prepare: 4096n }, 'e')).toThrow(/explicit transaction/);
      expect(() => toPortPosition({ commit: 2n ** 64n - 1n, prepare: 2n ** 64n - 1n }, 'e')).toThrow(/did not report/);
      expect(() => toPortPosition(undefined, 'e')).toThrow(/did not report/);
      expect(() => toEsdbPosition(-1n)).toThrow(RangeError);
    });

    it('appends through BatchAppend, as the client does with EventStoreDB 21.10 and later', async () => {
      const before = { ...server.streams.calls };
      const store = open();
      await store.appendToStream(`batch-${randomUUID()}`, [{ type: 'A', data: {} }], { expectedRevision: 'any' });
      expect(server.streams.calls.batchAppend).toBeGreaterThan(before.batchAppend);
      expect(server.streams.calls.append).toBe(before.append);
    });

    it('maps a wrong expected version answered through the Append API too', async () => {
      const legacy = await startEsdbTestServer({ batchAppend: false, chatterIntervalMs: 0 });
      try {
        const store = open({}, legacy);
        const stream = `legacy-${randomUUID()}`;
        const first = await store.appendToStream(
          stream,
          [
            { type: 'A', data: {} },
            { type: 'A', data: {} },
          ],
          {
            expectedRevision: 'no_stream',
          },
        );
        expect(first).toEqual({ nextExpectedRevision: 1n, position: legacy.log.stream(stream)![1]!.position });
        for (const [expected, actual] of [
          [0n, 1n],
          ['no_stream', 1n],
        ] as const) {
          const refused = store.appendToStream(stream, [{ type: 'A', data: {} }], { expectedRevision: expected });
          await expect(refused).rejects.toBeInstanceOf(ExpectedRevisionConflict);
          await expect(refused).rejects.toMatchObject({ stream, expected, actual });
        }
        const missing = `legacy-missing-${randomUUID()}`;
        await expect(
          store.appendToStream(missing, [{ type: 'A', data: {} }], { expectedRevision: 'stream_exists' }),
        ).rejects.toMatchObject({ stream: missing, expected: 'stream_exists', actual: undefined });
        expect(legacy.streams.calls).toMatchObject({ batchAppend: 0, append: 4 });
      } finally {
        await legacy.close();
      }
    });
  });

  describe('$all holds only the store’s streams', () => {
    it('leaves out system events and other streams in reads, the head and subscriptions', async () => {
      const store = open({ streamPrefixes: ['billing-test-'] });
      const start = await store.headPosition();
      const subscription = store.subscribeToAll(start === undefined ? {} : { after: start });
      const mine = `billing-test-${randomUUID()}`;
      const appended: bigint[] = [];
      for (let round = 0; round < 3; round++) {
        appended.push(
          (await store.appendToStream(mine, [{ type: 'Billed', data: { round } }], { expectedRevision: 'any' }))
            .position,
        );
        await store.appendToStream(`other-service-${randomUUID()}`, [{ type: 'Other', data: {} }], {
          expectedRevision: 'any',
        });
        server.log.systemChatter();
      }
      const log = await store.readAll({ after: start });
      expect(log.map((event) => event.streamName)).toEqual([mine, mine, mine]);
      expect(log.map((event) => event.position)).toEqual(appended);
      // Other writers came last, yet the head is this store's last event.
      expect(await store.headPosition()).toBe(appended[2]);
      expect((await take(subscription[Symbol.asyncIterator](), 3)).map((event) => event.position)).toEqual(appended);
      await subscription.close();
    });

    it('without prefixes, keeps every non-system stream and drops `$` streams whatever their event type', async () => {
      const store = open();
      const start = await store.headPosition();
      const heartbeat = server.log.systemEvent('$monitoring-heartbeat', 'Heartbeat', {});
      const stream = `plain-${randomUUID()}`;
      await store.appendToStream(stream, [{ type: 'Plain', data: {} }], { expectedRevision: 'any' });
      const log = await store.readAll({ after: start });
      expect(log.map((event) => event.streamName)).toEqual([stream]);
      expect(log[0]!.position).toBeGreaterThan(heartbeat.position);
    });
  });

  describe('identity', () => {
    it('is created once in its own stream, whichever replica asks first, and is not part of the log', async () => {
      const fresh = await startEsdbTestServer({ chatterIntervalMs: 0 });
      try {
        const replicas = [open({ streamPrefixes: ['billing-test-'] }, fresh), open({}, fresh), open({}, fresh)];
        const identities = await Promise.all(replicas.map((replica) => replica.identity()));
        expect(new Set(identities).size).toBe(1);
        expect(fresh.log.stream(IDENTITY_STREAM)).toHaveLength(1);
        // Another process, later, reads the same one.
        expect(await open({}, fresh).identity()).toBe(identities[0]);
        // The service's reads of $all take its own prefixes only: the identity is not an event of its log.
        expect(await replicas[0]!.readAll()).toEqual([]);
        expect(await replicas[0]!.headPosition()).toBeUndefined();
        // Another database is another log.
        expect(await open().identity()).not.toBe(identities[0]);
      } finally {
        await fresh.close();
      }
    });
  });

  describe('subscriptions that drop', () => {
    it('resubscribe after the last delivered event, delivering each event once, in order', async () => {
      const warn = jest.fn();
      const store = open({ logger: { warn }, resubscribe: { initialDelayMs: 10, maxDelayMs: 200 } });
      const stream = `dropped-${randomUUID()}`;
      const start = await store.headPosition();
      const iterator = store.subscribeToAll(start === undefined ? {} : { after: start })[Symbol.asyncIterator]();
      const append = (from: number) => store.appendToStream(stream, numbered(5, from), { expectedRevision: 'any' });

      await append(0);
      expect((await take(iterator, 5)).map((event) => event.data.n)).toEqual([0, 1, 2, 3, 4]);
      const opened = server.streams.subscriptionsOpened;
      expect(server.dropSubscriptions()).toBeGreaterThanOrEqual(1);
      await append(5);
      const pending = take(iterator, 10);
      server.dropSubscriptions();
      await append(10);
      expect((await pending).map((event) => event.data.n)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
      expect(server.streams.subscriptionsOpened).toBeGreaterThan(opened);
      expect(warn).toHaveBeenCalledWith(
        expect.objectContaining({ attempt: 1, delayMs: 10 }),
        expect.stringContaining('dropped'),
      );
      // Nothing more, nothing twice.
      await append(15);
      expect((await take(iterator, 5)).map((event) => event.data.n)).toEqual([15, 16, 17, 18, 19]);
    });

    it('wait longer and longer while the node is down, then resume where they were', async () => {
      const node = await startEsdbTestServer({ chatterIntervalMs: 0 });
      try {
        const warn = jest.fn();
        const store = open({ logger: { warn }, resubscribe: { initialDelayMs: 20, maxDelayMs: 160 } }, node);
        const iterator = store.subscribeToAll()[Symbol.asyncIterator]();
        await store.appendToStream('outage', numbered(2), { expectedRevision: 'no_stream' });
        expect((await take(iterator, 2)).map((event) => event.data.n)).toEqual([0, 1]);

        // The consumer waits for the next events all along, as the projection runner does.
        const next = take(iterator, 2, 10_000);
        await node.stop();
        for (let waited = 0; warn.mock.calls.length < 5 && waited < 5_000; waited += 20) await delay(20);
        const delays = warn.mock.calls.map(([details]) => (details as { delayMs: number }).delayMs);
        expect(delays.slice(0, 5)).toEqual([20, 40, 80, 160, 160]);
        await expect(store.headPosition()).rejects.toThrow();

        await node.restart();
        await store.appendToStream('outage', numbered(2, 2), { expectedRevision: 1n });
        expect((await next).map((event) => event.data.n)).toEqual([2, 3]);
      } finally {
        await node.close();
      }
    });

    it('never deliver an event twice, even from a server that repeats the one they resume from', async () => {
      const node = await startEsdbTestServer({ chatterIntervalMs: 0, repeatSubscriptionStart: true });
      try {
        const store = open({ resubscribe: { initialDelayMs: 10, maxDelayMs: 100 } }, node);
        await store.appendToStream('repeat', numbered(3), { expectedRevision: 'no_stream' });
        const [first] = await store.readAll({ maxCount: 1 });
        const iterator = store.subscribeToAll({ after: first!.position })[Symbol.asyncIterator]();
        expect((await take(iterator, 2)).map((event) => event.data.n)).toEqual([1, 2]);
        node.dropSubscriptions();
        await store.appendToStream('repeat', numbered(1, 3), { expectedRevision: 2n });
        expect((await take(iterator, 1)).map((event) => event.data.n)).toEqual([3]);
      } finally {
        await node.close();
      }
    });
  });

  describe('a log that goes back under a subscription (a node restored from a backup)', () => {
    it('fails the subscription with LogWentBack instead of dropping what the restored log writes', async () => {
      const node = await startEsdbTestServer({ chatterIntervalMs: 0 });
      try {
        const store = open({ resubscribe: { initialDelayMs: 10, maxDelayMs: 50 } }, node);
        const stream = `restored-${randomUUID()}`;
        await store.appendToStream(stream, numbered(2), { expectedRevision: 'no_stream' });
        const backup = node.log.events.length;
        await store.appendToStream(stream, numbered(3, 2), { expectedRevision: 1n });
        const iterator = store.subscribeToAll()[Symbol.asyncIterator]();
        expect((await take(iterator, 5)).map((event) => event.streamName)).toEqual(Array(5).fill(stream));

        await node.stop();
        node.log.restoreBackup(backup);
        await node.restart();
        // Written after the restore: at positions the subscription has already passed.
        await appendOnceBack(store, stream, numbered(4, 2), 'any');
        await expect(iterator.next()).rejects.toThrow(LogWentBack);
        await expect(iterator.next()).rejects.toThrow(/went back under this server.*Restart the server/);
      } finally {
        await node.close();
      }
    });

    it('probes the head of the restored log, not the one remembered from before', async () => {
      const node = await startEsdbTestServer({ chatterIntervalMs: 0 });
      try {
        const store = open({}, node);
        const stream = `restored-head-${randomUUID()}`;
        const before = await store.appendToStream(stream, numbered(1), { expectedRevision: 'no_stream' });
        const backup = node.log.events.length;
        await store.appendToStream(stream, numbered(3, 1), { expectedRevision: 0n });
        await store.probeHeadPosition();
        node.log.restoreBackup(backup);
        expect(await store.probeHeadPosition()).toBe(before.position);
      } finally {
        await node.close();
      }
    });
  });

  describe('the head in a log shared with other applications', () => {
    const foreign = (node: EsdbTestServer, count: number) => {
      for (let i = 0; i < count; i++) node.log.append('other-app', { kind: 'any' }, [json('OtherAppEvent', { i })]);
    };

    it('is probed with a bounded read: unknown when none of its events is near the end; exact where needed', async () => {
      const node = await startEsdbTestServer({ chatterIntervalMs: 0 });
      try {
        const options = { streamPrefixes: ['credits-'], pageSize: 10, headProbePages: 3 };
        foreign(node, 200); // a fresh deployment: no credits event yet
        const fresh = open(options, node);
        let reads = node.streams.calls.read;
        expect(await fresh.probeHeadPosition()).toBe('unknown');
        expect(node.streams.calls.read - reads).toBe(3);
        expect(await fresh.headPosition()).toBeUndefined(); // the whole log, for who needs it exact

        const { position } = await fresh.appendToStream('credits-a', numbered(1), { expectedRevision: 'no_stream' });
        foreign(node, 200);
        const other = open(options, node); // another replica, or this one restarted
        expect(await other.probeHeadPosition()).toBe('unknown');
        expect(await other.headPosition()).toBe(position);

        // Once a scan has ended, later ones stop where it got: new events only, exact again.
        foreign(node, 25);
        reads = node.streams.calls.read;
        expect(await other.probeHeadPosition()).toBe(position);
        expect(node.streams.calls.read - reads).toBe(3);
        const { position: next } = await fresh.appendToStream('credits-b', numbered(1), {
          expectedRevision: 'no_stream',
        });
        foreign(node, 5);
        expect(await other.probeHeadPosition()).toBe(next);
        expect(await other.headPosition()).toBe(next);
        expect(await fresh.probeHeadPosition()).toBe(next);
      } finally {
        await node.close();
      }
    });
  });

  describe('transport failures of an append', () => {
    it.each([
      ['BatchAppend', true, status.UNAVAILABLE],
      ['Append', false, status.UNAVAILABLE],
      ['BatchAppend', true, status.INTERNAL],
      ['Append', false, status.INTERNAL],
      ['BatchAppend', true, status.UNKNOWN],
      ['Append', false, status.UNKNOWN],
      ['BatchAppend', true, status.RESOURCE_EXHAUSTED],
      ['Append', false, status.RESOURCE_EXHAUSTED],
    ])(
      'are StoreUnavailable, not certain, when the node commits and the answer is lost (%s API, batchAppend %s, gRPC status %d); the retry sees the events',
      async (_api, batchAppend, code) => {
        const node = await startEsdbTestServer({ chatterIntervalMs: 0, batchAppend });
        try {
          const store = open({}, node);
          await store.appendToStream('lost', numbered(1), { expectedRevision: 'no_stream' });
          node.streams.failAfterCommit(1, code);
          const failure = store.appendToStream('lost', numbered(2, 1), { expectedRevision: 0n });
          await expect(failure).rejects.toThrow(StoreUnavailable);
          await expect(failure).rejects.toThrow(/may or may not have been recorded.*same idempotency key is safe/);
          // It was committed: a retry finds the stream past the revision it expected.
          expect(node.log.stream('lost')!.map((event) => event.revision)).toEqual([0n, 1n, 2n]);
          expect(await store.streamRevision('lost')).toBe(2n);
          await expect(store.appendToStream('lost', numbered(2, 1), { expectedRevision: 0n })).rejects.toThrow(
            ExpectedRevisionConflict,
          );
        } finally {
          await node.close();
        }
      },
    );

    it('are StoreUnavailable while the node is down, reads too, and appends go through once it is back', async () => {
      const node = await startEsdbTestServer({ chatterIntervalMs: 0 });
      try {
        const store = open({}, node);
        await store.appendToStream('down', numbered(1), { expectedRevision: 'no_stream' });
        await node.stop();
        await expect(store.appendToStream('down', numbered(1, 1), { expectedRevision: 0n })).rejects.toThrow(
          StoreUnavailable,
        );
        // What a command reads before it decides: nothing was recorded, so it says so.
        await expect(store.streamRevision('down')).rejects.toThrow(/^Nothing was recorded/);
        await expect(
          (async () => {
            for await (const event of store.readStream('down')) void event;
          })(),
        ).rejects.toThrow(StoreUnavailable);
        await node.restart();
        const result = await appendOnceBack(store, 'down', numbered(1, 1), 0n);
        expect(result.nextExpectedRevision).toBe(1n);
      } finally {
        await node.close();
      }
    });
  });

  describe('events it cannot map', () => {
    it('refuses ids that are not UUIDs and metadata using the reserved key, appending nothing', async () => {
      const store = open();
      const stream = `refused-${randomUUID()}`;
      await expect(
        store.appendToStream(stream, [{ id: 'not-a-uuid', type: 'A', data: {} }], { expectedRevision: 'any' }),
      ).rejects.toThrow(RangeError);
      await expect(
        store.appendToStream(stream, [{ type: 'A', data: {}, metadata: { [SCHEMA_VERSION_KEY]: 2 } }], {
          expectedRevision: 'any',
        }),
      ).rejects.toThrow(RangeError);
      expect(await store.streamRevision(stream)).toBeUndefined();
    });

    it('reads an event written by another client without a schema version as version 1', async () => {
      const store = open();
      const stream = `foreign-${randomUUID()}`;
      server.log.append(stream, { kind: 'any' }, [
        json('Foreign', { a: 1 }, { correlationId: 'c' }),
        json('Bare', { b: 2 }),
      ]);
      expect(
        (await readStream(store, stream)).map(({ type, data, metadata, schemaVersion }) => ({
          type,
          data,
          metadata,
          schemaVersion,
        })),
      ).toEqual([
        { type: 'Foreign', data: { a: 1 }, metadata: { correlationId: 'c' }, schemaVersion: 1 },
        { type: 'Bare', data: { b: 2 }, metadata: {}, schemaVersion: 1 },
      ]);
    });

    it('skips another application’s events in its streams that are not JSON objects, in reads, the head and subscriptions', async () => {
      // `odd-` is followed; `odd-mine-` is the service's alone (as workspace-credits- is).
      const store = open({ streamPrefixes: ['odd-'], ownStreamPrefixes: ['odd-mine-'] });
      const start = await store.headPosition();
      const iterator = store.subscribeToAll(start === undefined ? {} : { after: start })[Symbol.asyncIterator]();
      const mine = await store.appendToStream(`odd-mine-${randomUUID()}`, [{ type: 'Mine', data: { n: 1 } }], {
        expectedRevision: 'any',
      });
      server.log.append(`odd-comment-${randomUUID()}`, { kind: 'any' }, [
        { ...json('LikeAdded', {}), contentType: 'application/octet-stream', data: Buffer.from([1, 2, 3]) },
        json('LikeCounted', [1, 2]),
      ]);
      const after = await store.appendToStream(`odd-mine-${randomUUID()}`, [{ type: 'Mine', data: { n: 2 } }], {
        expectedRevision: 'any',
      });
      server.log.append(`odd-comment-${randomUUID()}`, { kind: 'any' }, [
        { ...json('LikeAdded', {}), contentType: 'application/octet-stream', data: Buffer.from([4]) },
      ]);
      expect((await store.readAll({ after: start })).map((event) => event.position)).toEqual([
        mine.position,
        after.position,
      ]);
      expect(await store.headPosition()).toBe(after.position);
      expect(await store.probeHeadPosition()).toBe(after.position);
      expect((await take(iterator, 2)).map((event) => event.data.n)).toEqual([1, 2]);
    });

    it('stops with an error, rather than skip it, at an event of its streams with an invalid schema version', async () => {
      const store = open({ streamPrefixes: ['odd-'], ownStreamPrefixes: ['odd-mine-'] });
      const start = await store.headPosition();
      const iterator = store.subscribeToAll(start === undefined ? {} : { after: start })[Symbol.asyncIterator]();
      server.log.append(`odd-mine-${randomUUID()}`, { kind: 'any' }, [
        json('Mine', {}, { [SCHEMA_VERSION_KEY]: 'two' }),
      ]);
      await expect(store.readAll({ after: start })).rejects.toThrow(/invalid \$schemaVersion/);
      await expect(iterator.next()).rejects.toThrow(/invalid \$schemaVersion/);
      await expect(iterator.next()).rejects.toThrow(/invalid \$schemaVersion/); // and it does not go past it
    });
  });
});

const numbered = (count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => ({ type: 'Numbered', data: { n: from + i } }));

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Appends once the node restarted answers again (the client reconnects on its own). */
async function appendOnceBack(
  store: EventStore,
  stream: string,
  events: NewEvent[],
  expectedRevision: ExpectedRevision,
): Promise<AppendResult> {
  for (let waited = 0; ; waited += 50) {
    try {
      return await store.appendToStream(stream, events, { expectedRevision });
    } catch (error) {
      if (!(error instanceof StoreUnavailable) || waited > 5_000) throw error;
      await delay(50);
    }
  }
}

async function readStream(store: EventStore, stream: string): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for await (const event of store.readStream(stream)) events.push(event);
  return events;
}
