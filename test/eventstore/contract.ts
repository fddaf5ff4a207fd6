/**
 * The behaviour every EventStore adapter must show. An adapter's test file calls
 * describeEventStoreContract once with a function that opens a store.
 *
 * What `open` must give: a store that nothing else writes to while a test runs. It need not be empty
 * (a shared server may hold earlier tests' events): the tests use fresh stream names and only look
 * at the log after the head position they find when they start. `cleanup` runs after every test,
 * possibly after the test has closed the store itself.
 */
import { randomUUID } from 'node:crypto';
import {
  ExpectedRevisionConflict,
  type EventStore,
  type ExpectedRevision,
  type LogSubscription,
  type NewEvent,
  type RecordedEvent,
} from '../../src/eventstore/port';

export interface OpenedEventStore {
  store: EventStore;
  cleanup(): Promise<void>;
}

export function describeEventStoreContract(name: string, open: () => Promise<OpenedEventStore>): void {
  describe(`EventStore contract: ${name}`, () => {
    let opened: OpenedEventStore;
    let store: EventStore;
    /** The head of the log when the test started: everything after it is the test's own. */
    let start: bigint | undefined;

    beforeEach(async () => {
      opened = await open();
      store = opened.store;
      start = await store.headPosition();
    });

    afterEach(async () => {
      await opened.cleanup();
    });

    const logSinceStart = () => store.readAll({ after: start });
    const append = (stream: string, events: NewEvent[], expectedRevision: ExpectedRevision = 'any') =>
      store.appendToStream(stream, events, { expectedRevision });

    describe('appending', () => {
      it('creates a stream with no_stream, numbering revisions from 0', async () => {
        const stream = streamName('create');
        const result = await append(stream, numbered(3), 'no_stream');

        const events = await readStream(store, stream);
        expect(events.map((e) => e.revision)).toEqual([0n, 1n, 2n]);
        expect(events.map((e) => e.data)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
        expect(events.every((e) => e.streamName === stream)).toBe(true);
        expect(result).toEqual({ nextExpectedRevision: 2n, position: events[2]!.position });
        expect(await store.streamRevision(stream)).toBe(2n);
      });

      it('continues a stream when the expected revision matches exactly', async () => {
        const stream = streamName('continue');
        const first = await append(stream, numbered(2), 'no_stream');
        const second = await append(stream, numbered(2, 2), first.nextExpectedRevision);

        expect(second.nextExpectedRevision).toBe(3n);
        expect(second.position).toBeGreaterThan(first.position);
        expect((await readStream(store, stream)).map((e) => [e.revision, e.data.n])).toEqual([
          [0n, 0],
          [1n, 1],
          [2n, 2],
          [3n, 3],
        ]);
      });

      it('round-trips id, type, data, metadata, schemaVersion and recordedAt', async () => {
        const stream = streamName('roundtrip');
        const id = randomUUID();
        const data = {
          text: 'crédits ✓',
          amount: 12.5,
          big: '900719925474099312345',
          nested: { list: [1, 'two', null, { three: true }] },
          none: null,
        };
        const metadata = { correlationId: 'c-1', causationId: 'k-2', actor: { kind: 'user', id: 'u-3' } };
        const before = Date.now();
        await append(stream, [
          { id, type: 'CreditsGranted', data, metadata, schemaVersion: 3 },
          { type: 'CreditsConsumed', data: { amount: 1 } },
          { type: 'CreditsConsumed', data: {} },
        ]);
        const after = Date.now();

        const [explicit, defaulted, empty] = await readStream(store, stream);
        expect(explicit).toMatchObject({
          id,
          streamName: stream,
          type: 'CreditsGranted',
          data,
          metadata,
          schemaVersion: 3,
        });
        expect(defaulted).toMatchObject({
          type: 'CreditsConsumed',
          data: { amount: 1 },
          metadata: {},
          schemaVersion: 1,
        });
        expect(empty!.data).toEqual({});
        expect(typeof defaulted!.id).toBe('string');
        expect(defaulted!.id).not.toBe('');
        expect(new Set([explicit!.id, defaulted!.id, empty!.id]).size).toBe(3);
        for (const event of [explicit!, defaulted!, empty!]) {
          expect(event.recordedAt).toBeInstanceOf(Date);
          // Some slack for a server clock that is not this machine's.
          expect(event.recordedAt.getTime()).toBeGreaterThanOrEqual(before - 5000);
          expect(event.recordedAt.getTime()).toBeLessThanOrEqual(after + 5000);
        }
        // The global log hands out the very same records.
        expect(await logSinceStart()).toEqual([explicit, defaulted, empty]);
      });

      it('gives strictly increasing positions across streams, in append order', async () => {
        const [a, b, c] = [streamName('a'), streamName('b'), streamName('c')];
        const results = [];
        for (const stream of [a, b, a, c, b]) results.push(await append(stream, numbered(1)));
        for (let i = 1; i < results.length; i++) {
          expect(results[i]!.position).toBeGreaterThan(results[i - 1]!.position);
        }
        const log = await logSinceStart();
        expect(log.map((e) => e.streamName)).toEqual([a, b, a, c, b]);
        expect(log.map((e) => e.position)).toEqual(results.map((r) => r.position));
        expect(log.map((e) => e.revision)).toEqual([0n, 0n, 1n, 0n, 1n]);
      });

      it('appends a batch atomically, contiguous in the global log', async () => {
        const [batch, other] = [streamName('batch'), streamName('other')];
        await append(other, numbered(1));
        await append(batch, numbered(1));
        const result = await append(batch, numbered(5, 1), 0n);
        await append(other, numbered(1, 1));

        const log = await logSinceStart();
        expect(log.map((e) => [e.streamName, e.revision])).toEqual([
          [other, 0n],
          [batch, 0n],
          [batch, 1n],
          [batch, 2n],
          [batch, 3n],
          [batch, 4n],
          [batch, 5n],
          [other, 1n],
        ]);
        expect(result).toEqual({ nextExpectedRevision: 5n, position: log[6]!.position });
      });

      it('appending no events changes nothing and reports where the stream stands (-1n when absent)', async () => {
        const stream = streamName('empty');
        await append(stream, numbered(3));
        const last = (await readStream(store, stream))[2]!;
        const head = await store.headPosition();

        expect(await append(stream, [], 2n)).toEqual({ nextExpectedRevision: 2n, position: last.position });
        expect(await append(stream, [], 'stream_exists')).toEqual({
          nextExpectedRevision: 2n,
          position: last.position,
        });
        await expectConflict(append(stream, [], 1n), stream, 1n, 2n);

        const missing = streamName('missing');
        expect(await append(missing, [], 'no_stream')).toEqual({ nextExpectedRevision: -1n, position: -1n });
        await expectConflict(append(missing, [], 'stream_exists'), missing, 'stream_exists', undefined);
        expect(await store.streamRevision(missing)).toBeUndefined();
        expect(await store.headPosition()).toBe(head);
      });
    });

    describe('expected revision', () => {
      let stream: string;
      let before: { events: RecordedEvent[]; log: RecordedEvent[]; head: bigint | undefined };

      beforeEach(async () => {
        stream = streamName('expected');
        await append(stream, numbered(3), 'no_stream');
        before = {
          events: await readStream(store, stream),
          log: await logSinceStart(),
          head: await store.headPosition(),
        };
      });

      const expectNothingAppended = async () => {
        expect(await readStream(store, stream)).toEqual(before.events);
        expect(await logSinceStart()).toEqual(before.log);
        expect(await store.headPosition()).toBe(before.head);
      };

      it('refuses a revision behind the stream, reporting the actual one, appending nothing', async () => {
        await expectConflict(append(stream, numbered(2), 1n), stream, 1n, 2n);
        await expectNothingAppended();
      });

      it('refuses a revision ahead of the stream', async () => {
        await expectConflict(append(stream, numbered(1), 3n), stream, 3n, 2n);
        await expectNothingAppended();
      });

      it('refuses a revision on a missing stream', async () => {
        const missing = streamName('missing');
        await expectConflict(append(missing, numbered(1), 0n), missing, 0n, undefined);
        expect(await store.streamRevision(missing)).toBeUndefined();
        await expectNothingAppended();
      });

      it('refuses no_stream on an existing stream', async () => {
        await expectConflict(append(stream, numbered(3), 'no_stream'), stream, 'no_stream', 2n);
        await expectNothingAppended();
      });

      it('refuses stream_exists on a missing stream, which stays missing', async () => {
        const missing = streamName('missing');
        await expectConflict(append(missing, numbered(2), 'stream_exists'), missing, 'stream_exists', undefined);
        expect(await readStream(store, missing)).toEqual([]);
        expect(await store.streamRevision(missing)).toBeUndefined();
        await expectNothingAppended();
      });

      it('accepts stream_exists on an existing stream', async () => {
        expect((await append(stream, numbered(1), 'stream_exists')).nextExpectedRevision).toBe(3n);
      });

      it('accepts any, whether the stream exists or not', async () => {
        expect((await append(stream, numbered(1), 'any')).nextExpectedRevision).toBe(3n);
        const fresh = streamName('fresh');
        expect((await append(fresh, numbered(2), 'any')).nextExpectedRevision).toBe(1n);
      });

      it('lets exactly one of many concurrent appends at the same revision win', async () => {
        const contenders = Array.from({ length: 20 }, (_, i) => ({
          id: randomUUID(),
          type: 'Contended',
          data: { contender: i },
        }));
        const outcomes = await Promise.allSettled(contenders.map((event) => append(stream, [event], 2n)));

        const winners = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [{ i, result: o.value }] : []));
        expect(winners).toHaveLength(1);
        expect(winners[0]!.result.nextExpectedRevision).toBe(3n);
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected') {
            expect(outcome.reason).toBeInstanceOf(ExpectedRevisionConflict);
            expect(outcome.reason).toMatchObject({ stream, expected: 2n, actual: 3n });
          }
        }
        const events = await readStream(store, stream);
        expect(events).toHaveLength(4);
        expect(events[3]!.id).toBe(contenders[winners[0]!.i]!.id);
        expect(await logSinceStart()).toHaveLength(before.log.length + 1);
      });

      it('lets exactly one of many concurrent creations with no_stream win', async () => {
        const fresh = streamName('race');
        const outcomes = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) => append(fresh, numbered(2, 2 * i), 'no_stream')),
        );
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected')
            expect(outcome.reason).toMatchObject({ stream: fresh, expected: 'no_stream', actual: 1n });
        }
        expect((await readStream(store, fresh)).map((e) => e.revision)).toEqual([0n, 1n]);
      });
    });

    describe('reading', () => {
      it('reads a stream from a revision, up to maxCount', async () => {
        const stream = streamName('read');
        await append(stream, numbered(10));
        const revisions = async (options: { fromRevision?: bigint; maxCount?: number }) =>
          (await readStream(store, stream, options)).map((e) => Number(e.revision));

        expect(await revisions({})).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(await revisions({ fromRevision: 3n })).toEqual([3, 4, 5, 6, 7, 8, 9]);
        expect(await revisions({ fromRevision: 3n, maxCount: 4 })).toEqual([3, 4, 5, 6]);
        expect(await revisions({ maxCount: 2 })).toEqual([0, 1]);
        expect(await revisions({ maxCount: 0 })).toEqual([]);
        expect(await revisions({ fromRevision: 10n })).toEqual([]);
      });

      it('reads a stream longer than any sensible page, in order', async () => {
        const stream = streamName('long');
        for (let batch = 0; batch < 5; batch++) await append(stream, numbered(500, batch * 500));

        const all = await readStream(store, stream);
        expect(all).toHaveLength(2500);
        expect(all.every((e, i) => e.revision === BigInt(i) && e.data.n === i)).toBe(true);
        const slice = await readStream(store, stream, { fromRevision: 100n, maxCount: 1500 });
        expect(slice.map((e) => Number(e.revision))).toEqual(range(100, 1600));
      });

      it('reads a missing stream as empty, with no revision', async () => {
        const missing = streamName('missing');
        expect(await readStream(store, missing)).toEqual([]);
        expect(await store.streamRevision(missing)).toBeUndefined();
      });

      it('reads the global log after a position, page by page, across streams', async () => {
        const streams = [streamName('x'), streamName('y'), streamName('z')];
        const appended: string[] = [];
        for (let i = 0; i < 10; i++) {
          const event = { id: randomUUID(), type: 'Numbered', data: { n: i } };
          await append(streams[i % 3]!, [event]);
          appended.push(event.id);
        }

        const log = await logSinceStart();
        expect(log.map((e) => e.id)).toEqual(appended);

        const pages: RecordedEvent[][] = [];
        for (let after = start; ;) {
          const page = await store.readAll({ after, maxCount: 4 });
          if (page.length === 0) break;
          pages.push(page);
          after = page[page.length - 1]!.position;
        }
        expect(pages.map((p) => p.length)).toEqual([4, 4, 2]);
        expect(pages.flat()).toEqual(log);

        expect(await store.readAll({ after: log[6]!.position })).toEqual(log.slice(7));
        expect(await store.readAll({ after: log[6]!.position, maxCount: 2 })).toEqual(log.slice(7, 9));
        expect(await store.readAll({ after: log[9]!.position })).toEqual([]);
        expect(await store.readAll({ after: start, maxCount: 0 })).toEqual([]);
      });

      it('reads the log from its start when no position is given', async () => {
        const stream = streamName('first');
        const { position } = await append(stream, numbered(1));
        const [first] = await store.readAll({ maxCount: 1 });
        expect(first).toBeDefined();
        if (start === undefined) expect(first).toMatchObject({ streamName: stream, position });
        else expect(first!.position).toBeLessThanOrEqual(start);
      });

      it('reports the head position: the last appended event', async () => {
        await append(streamName('h1'), numbered(2));
        const { position } = await append(streamName('h2'), numbered(3));
        expect(await store.headPosition()).toBe(position);
        const log = await logSinceStart();
        expect(log[log.length - 1]!.position).toBe(position);
      });
    });

    describe('subscribeToAll', () => {
      const subscriptions: LogSubscription[] = [];
      const subscribe = (after?: bigint) => {
        const subscription = store.subscribeToAll(after === undefined ? {} : { after });
        subscriptions.push(subscription);
        return subscription;
      };

      afterEach(async () => {
        await Promise.all(subscriptions.splice(0).map((s) => s.close()));
      });

      it('catches up from a position, then follows live appends in order, each once', async () => {
        const [a, b] = [streamName('sub-a'), streamName('sub-b')];
        await append(a, numbered(3));
        await append(b, numbered(3));
        const history = await logSinceStart();
        const from = history[1]!.position;

        const iterator = subscribe(from)[Symbol.asyncIterator]();
        expect(ids(await take(iterator, 4))).toEqual(ids(history.slice(2)));

        // Append while the subscription follows: some batches land while it sleeps, some
        // back-to-back, of several sizes and on both streams.
        const live = take(iterator, 1 + 2 + 3 + 4 + 1);
        for (const [i, size] of [1, 2, 3, 4, 1].entries()) {
          await append(i % 2 ? a : b, numbered(size, 100 + i * 10));
          if (i % 2) await delay(30);
        }
        const received = await live;

        const expected = (await store.readAll({ after: history[history.length - 1]!.position })).map((e) => e.id);
        expect(expected).toHaveLength(11);
        expect(ids(received)).toEqual(expected);
        expect(isStrictlyIncreasing(received.map((e) => e.position))).toBe(true);

        // Nothing is delivered twice: the next event is the next one appended.
        const marker = { id: randomUUID(), type: 'Marker', data: {} };
        await append(a, [marker]);
        expect(ids(await take(iterator, 1))).toEqual([marker.id]);
      });

      it('starts at the beginning of the log when no position is given', async () => {
        await append(streamName('first'), numbered(2));
        const [first] = await store.readAll({ maxCount: 1 });
        const [delivered] = await take(subscribe()[Symbol.asyncIterator](), 1);
        expect(delivered).toEqual(first);
      });

      it('delivers a subscription that starts at the head only what comes next', async () => {
        await append(streamName('old'), numbered(3));
        const iterator = subscribe(await store.headPosition())[Symbol.asyncIterator]();
        const next = take(iterator, 2);
        await delay(50);
        const fresh = streamName('new');
        await append(fresh, numbered(2));
        expect((await next).map((e) => [e.streamName, e.revision])).toEqual([
          [fresh, 0n],
          [fresh, 1n],
        ]);
      });

      it('feeds every subscriber everything', async () => {
        const stream = streamName('fanout');
        await append(stream, numbered(2));
        const first = subscribe(start)[Symbol.asyncIterator]();
        const second = subscribe(start)[Symbol.asyncIterator]();
        const received = Promise.all([take(first, 7), take(second, 7)]);
        await delay(20);
        await append(stream, numbered(3, 2));
        await append(streamName('fanout-other'), numbered(2));

        const [one, two] = await received;
        const log = await logSinceStart();
        expect(ids(one)).toEqual(ids(log));
        expect(ids(two)).toEqual(ids(log));
      });

      it('ends a pending for-await when closed', async () => {
        await append(streamName('closing'), numbered(2));
        const subscription = subscribe(start);
        const seen: RecordedEvent[] = [];
        const loop = (async () => {
          for await (const event of subscription) seen.push(event);
        })();
        await delay(100); // caught up, now waiting for more
        expect(seen).toHaveLength(2);
        await subscription.close();
        await withTimeout(loop, 2000, 'the for-await loop did not end after close()');
        await append(streamName('after-close'), numbered(1));
        expect(seen).toHaveLength(2);
        expect(await subscription[Symbol.asyncIterator]().next()).toEqual({ done: true, value: undefined });
      });

      it('closes when a for-await loop breaks out', async () => {
        await append(streamName('breaking'), numbered(3));
        const subscription = subscribe(start);
        for await (const event of subscription) {
          expect(event.revision).toBe(0n);
          break;
        }
        expect(await subscription[Symbol.asyncIterator]().next()).toEqual({ done: true, value: undefined });
      });

      it('ends pending subscriptions when the store closes; closing twice is harmless', async () => {
        const subscription = subscribe(start);
        const loop = (async () => {
          const seen: RecordedEvent[] = [];
          for await (const event of subscription) seen.push(event);
          return seen.length;
        })();
        await append(streamName('store-close'), numbered(1));
        await delay(50);
        await store.close();
        expect(await withTimeout(loop, 2000, 'the for-await loop did not end after store.close()')).toBe(1);
        await store.close();
      });
    });

    describe('identity', () => {
      it('has one, the same every time it is asked, also when asked at once', async () => {
        const [first, ...others] = await Promise.all([store.identity(), store.identity(), store.identity()]);
        expect(first).toMatch(/^\S{16,}$/);
        expect(others).toEqual([first, first]);
        await append(streamName('identity'), numbered(2));
        expect(await store.identity()).toBe(first);
      });
    });
  });
}

// --- helpers ---------------------------------------------------------------------------------

const streamName = (label: string) => `${label}-${randomUUID()}`;

/** `count` events whose data is { n } for n from `from`. */
const numbered = (count: number, from = 0): NewEvent[] =>
  Array.from({ length: count }, (_, i) => ({ type: 'Numbered', data: { n: from + i } }));

const ids = (events: RecordedEvent[]) => events.map((e) => e.id);

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const isStrictlyIncreasing = (values: bigint[]) => values.every((v, i) => i === 0 || v > values[i - 1]!);

async function readStream(store: EventStore, stream: string, options?: { fromRevision?: bigint; maxCount?: number }) {
  const events: RecordedEvent[] = [];
  for await (const event of store.readStream(stream, options)) events.push(event);
  return events;
}

async function expectConflict(
  append: Promise<unknown>,
  stream: string,
  expected: ExpectedRevision,
  actual: bigint | undefined,
): Promise<void> {
  const error = await append.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ExpectedRevisionConflict);
  const conflict = error as ExpectedRevisionConflict;
  expect(conflict.code).toBe('WRONG_EXPECTED_REVISION');
  expect(conflict.stream).toBe(stream);
  expect(conflict.expected).toBe(expected);
  expect(conflict.actual).toBe(actual);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The next `count` events from a subscription, failing if they take longer than `ms`. */
export async function take(iterator: AsyncIterator<RecordedEvent>, count: number, ms = 5000): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  const deadline = Date.now() + ms;
  while (events.length < count) {
    const result = await withTimeout(
      iterator.next(),
      deadline - Date.now(),
      `received ${events.length} of ${count} events`,
    );
    if (result.done) throw new Error(`the subscription ended after ${events.length} of ${count} events`);
    events.push(result.value);
  }
  return events;
}
